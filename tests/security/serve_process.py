"""``billing-bot serve`` as a real process for tests that need its sockets, memory and log lines."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.bot_harness import SECRET, WEBHOOK_SECRET, wait_until
from tests.support.localstripe_server import free_port
from tests.support.slack_api import SlackAPI

BOT = [sys.executable, "-m", "bot"]


@dataclass(frozen=True)
class Serve:
    pid: int
    port: int
    log: Path

    def connect(self, timeout: float = 20.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (``VmHWM``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve(tmp_path: Path) -> Iterator[Serve]:
    with SlackAPI() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "DATABASE_URL", "LOG_"))}
        env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", SLACK_API_URL=api.base_url,
                   SLACK_BOT_TOKEN="xoxb-serve", SLACK_SIGNING_SECRET=SECRET, STRIPE_API_KEY="sk_test_x",
                   STRIPE_API_BASE="http://127.0.0.1:9", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, LOG_LEVEL="INFO")
        subprocess.run([*BOT, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True)
        port = free_port()
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen([*BOT, "serve", "--port", str(port), "--no-scheduler"], env=env,
                                       cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: _answers_or_died(port, process), 30, "the server")
            assert process.poll() is None, log.read_text()
            yield Serve(process.pid, port, log)
        finally:
            process.terminate()
            process.wait(10)


def _answers_or_died(port: int, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        return True
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def status_of(sock: socket.socket) -> int | None:
    """The status code of the answer read from ``sock``; ``None`` when it closed without one."""
    try:
        head = sock.recv(65536)
    except OSError:
        return None
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
