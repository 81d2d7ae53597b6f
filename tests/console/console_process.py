"""``billing-bot console --demo`` as a child process, driven line by line through its stdin."""

from __future__ import annotations

import codecs
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: The console waiting for a command (``ann@acme.test> ``), or a modal asking for an input (``Pay with [1]: ``).
PROMPT = re.compile(r"^[^\s>]+> $")
QUESTION = re.compile(r": $")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh machine: no Slack, Stripe, database or SMTP settings."""
    names = ("SLACK_", "STRIPE_", "DATABASE_URL", "SMTP_", "SUPPORT_", "BILLING_", "TEST_DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    # The checkout first on the path: the console runs in a scratch directory, not the repo.
    env.update({"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO), **extra})
    return env


def localstripe_pids(port: int) -> list[int]:
    """Processes running the demo's localstripe launcher on ``port`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if b"devtools.demo.run_localstripe" in cmdline and str(port).encode() in cmdline and "zombie" not in status:
            found.append(int(entry.name))
    return found


def wait_until_gone(port: int, timeout: float = 15.0) -> list[int]:
    """The localstripe processes on ``port`` still alive once they had ``timeout`` seconds to stop."""
    deadline = time.monotonic() + timeout
    while localstripe_pids(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    return localstripe_pids(port)


class ConsoleProcess:
    """The console in a child process; ``send`` types a line and returns what it printed."""

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=cwd,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=1,
        )
        self._chunks: queue.Queue[str | None] = queue.Queue()
        self.transcript = ""
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            data = os.read(self.proc.stdout.fileno(), 65536)
            chunk = decoder.decode(data, final=not data)
            if not data:
                self._chunks.put(None)
                return
            self._chunks.put(chunk)

    def read_until_prompt(self, expect: re.Pattern[str] = PROMPT, timeout: float = 60.0) -> str:
        """Everything printed until the console waits for input (or exits)."""
        out = ""
        deadline = time.monotonic() + timeout
        while not expect.search(out.rsplit("\n", 1)[-1] if out else ""):
            try:
                chunk = self._chunks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"the console did not prompt; it printed:\n{self.transcript}{out}") from None
            if chunk is None:
                break
            out += chunk
        self.transcript += out
        return out

    def type(self, line: str) -> None:
        """Type ``line`` without waiting for anything (``:quit``)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def send(self, line: str, expect: re.Pattern[str] = PROMPT) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read_until_prompt(expect)

    def finish(self, timeout: float = 30.0) -> str:
        """Wait for exit; everything printed since the last prompt."""
        self.proc.wait(timeout=timeout)
        rest = ""
        while True:
            try:
                chunk = self._chunks.get(timeout=5)
            except queue.Empty:
                break
            if chunk is None:
                break
            rest += chunk
        self.transcript += rest
        return rest

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def number(output: str, label: str, *, after: str = "") -> str:
    """The number shown for ``label`` (the first one after the text ``after``)."""
    start = output.index(after) if after else 0
    match = re.search(r"\[(\d+)\] " + re.escape(label), output[start:])
    assert match, f"no [n] {label!r} after {after!r} in:\n{output}"
    return match.group(1)


def stripe_port(banner: str) -> int:
    match = re.search(r"Stripe API at http://127\.0\.0\.1:(\d+)", banner)
    assert match, banner
    return int(match.group(1))


def printf_console(
    script: str | Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float = 120.0, pause: float = 2.0
) -> str:
    """``printf '<script>' | python -m bot console --demo`` in a shell: every line typed up front,
    as a person pastes a script; returns everything the console printed. A script given in parts
    is typed part by part, ``pause`` seconds apart (a person coming back from a web page)."""
    parts = [script] if isinstance(script, str) else list(script)
    typed = f"; sleep {pause}; ".join(f"printf %s {shlex.quote(part)}" for part in parts)
    command = f"{{ {typed}; }} | {shlex.quote(sys.executable)} -m bot console --demo"
    done = subprocess.run(
        ["sh", "-c", command], cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"the console exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def after_prompt(transcript: str, line: str, *, last: bool = False) -> str:
    """What the console printed in answer to ``line`` (its first or ``last`` time; until the next prompt)."""
    find = transcript.rindex if last else transcript.index
    start = find(f"> {line}\n") + len(line) + 3
    following = re.search(r"^[^\s>]+> ", transcript[start:], re.MULTILINE)
    return transcript[start : start + following.start()] if following else transcript[start:]
