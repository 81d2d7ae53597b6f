"""localstripe as a child process on 127.0.0.1 for the demo, stopped with everything it started."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import IO

API_KEY = "sk_test_demo"


class LocalStripeFailed(RuntimeError):
    """localstripe did not start."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalStripeProcess:
    """``python -m devtools.demo.run_localstripe PORT`` in its own process group.

    The child also exits by itself when this process dies (the launcher watches its parent), so
    even a ``kill -9`` of the console leaves nothing running.
    """

    def __init__(self, *, startup_timeout: float = 30.0) -> None:
        self.port = 0
        self._timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> LocalStripeProcess:
        if importlib.util.find_spec("localstripe") is None:
            raise LocalStripeFailed("the demo needs localstripe: pip install 'billing-bot[demo]' (make run does)")
        self.port = free_port()
        self._log = tempfile.TemporaryFile(prefix="demo-localstripe-")  # noqa: SIM115 (closed in stop())
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "devtools.demo.run_localstripe", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # Ctrl-C at the terminal is ours to handle, not the child's
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._timeout
        auth = base64.b64encode(f"{API_KEY}:".encode()).decode()
        request = urllib.request.Request(f"{self.base_url}/v1/customers", headers={"Authorization": f"Basic {auth}"})
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise LocalStripeFailed(f"localstripe exited with {self._proc.returncode}: {self._output()}")
            try:
                with urllib.request.urlopen(request, timeout=1.0) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        self.stop()
        raise LocalStripeFailed(f"localstripe did not answer within {self._timeout:.0f} s")

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-1000:]

    def stop(self) -> None:
        """SIGTERM to the child's process group, SIGKILL if it lingers. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
