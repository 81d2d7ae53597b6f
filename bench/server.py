"""Start a server under test as a child process, wait until it answers, read its memory, stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # ``python -m bench.bare_app`` imports from here
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, api_url: str, stripe_base: str) -> dict[str, str]:
    """The environment of ``billing-bot serve`` (and of the bare app) during a benchmark."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "SMTP_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            # The generator caches one card per account; a pay modal opened on a copy over a minute
            # old re-reads it in the background, and the stand-in answers those two Stripe reads as
            # Stripe does, with the same card (bench.standin). Any other Stripe call fails loudly.
            "STRIPE_API_KEY": "sk_test_bench",
            "STRIPE_API_BASE": stripe_base,
        }
    )
    if os.environ.get("BENCH_LOG_LEVEL"):
        env["LOG_LEVEL"] = os.environ["BENCH_LOG_LEVEL"]
    return env


def run_uvicorn(asgi: Any, host: str, port: int, log_level: str, *, workers: int = 1) -> None:
    """Serve ``asgi`` with the uvicorn settings of ``bot.server.run_http`` (``billing-bot serve``).

    With ``workers`` > 1, ``asgi`` is the import string of an app factory ("module:function"),
    as ``serve --workers N`` runs ``bot.server:worker_app``.
    """
    import uvicorn

    options: dict[str, Any] = {
        "host": host, "port": port, "log_level": log_level.lower(), "access_log": False, "log_config": None,
    }  # fmt: skip
    if workers > 1:
        uvicorn.run(asgi, factory=True, workers=workers, **options)
    else:
        uvicorn.run(asgi, **options)


class Server:
    """A child process serving HTTP on ``port``; ``with Server(...) as s:`` waits for readiness."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def ours(cls, env: dict[str, str], log_dir: Path, *, workers: int = 1, name: str = "serve") -> Server:
        """``billing-bot serve`` (``--workers N``: uvicorn's process manager, as deployed)."""
        port = free_port()
        argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"]
        if workers > 1:
            argv += ["--workers", str(workers)]
        return cls(name, argv, env, port, log_dir)

    @classmethod
    def bare(cls, env: dict[str, str], log_dir: Path, *, workers: int = 1, name: str = "bare-bolt") -> Server:
        """The ack-only Bolt app of :mod:`bench.bare_app`, served the same way."""
        port = free_port()
        argv = [sys.executable, "-m", "bench.bare_app", "--host", "127.0.0.1", "--port", str(port)]
        if workers > 1:
            argv += ["--workers", str(workers)]
        return cls(name, argv, env, port, log_dir)

    def __enter__(self) -> Server:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        log.close()
        self._wait_ready()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout:.0f} s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def rss_mb(self) -> float:
        """Resident set size of the server process, in MB (from /proc)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time (user + system) so far of each worker process (``--workers N``: the children), by pid."""
        assert self.process is not None
        pid = self.process.pid
        children = [
            int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()
        ]
        out: dict[int, float] = {}
        for worker in children or [pid]:
            try:
                if b"resource_tracker" in Path(f"/proc/{worker}/cmdline").read_bytes():
                    continue  # multiprocessing's helper, not a worker
                fields = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone
            out[worker] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
