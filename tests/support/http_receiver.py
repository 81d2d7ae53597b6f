"""A tiny HTTP endpoint that records what is posted to it (e.g. Stripe webhooks).

Stdlib only.  Answers every request with a programmable status (default 200)::

    with HttpReceiver() as hooks:
        localstripe.register_webhook(hooks.url("/stripe/webhook"), "whsec_test")
        ...
        req = hooks.wait_for(lambda r: b"customer.created" in r.body)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

from bot.quiet_http_server import QuietThreadingHTTPServer

__all__ = ["HttpReceiver", "ReceivedRequest"]


@dataclass(frozen=True)
class ReceivedRequest:
    """One request received by :class:`HttpReceiver` (header keys lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)


class _Server(QuietThreadingHTTPServer):
    daemon_threads = True
    receiver: HttpReceiver


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        """Silence the access log."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        status = self.server.receiver._record(
            ReceivedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        payload = b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle


class HttpReceiver:
    """Records requests on ``http://127.0.0.1:PORT/<any path>``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self._lock = threading.Condition()
        self._requests: list[ReceivedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> HttpReceiver:
        """Bind a free port and serve in a daemon thread."""
        if self._server is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.receiver = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("HttpReceiver is not started")
        port: int = self._server.server_address[1]
        return port

    def url(self, path: str = "/") -> str:
        """Absolute URL of ``path`` on this receiver."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    @property
    def requests(self) -> list[ReceivedRequest]:
        """All requests so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget recorded requests."""
        with self._lock:
            self._requests.clear()

    def wait_for(
        self, predicate: Callable[[ReceivedRequest], bool] | None = None, timeout: float = 5.0
    ) -> ReceivedRequest:
        """First request matching ``predicate`` (any, if ``None``); ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for req in self._requests:
                    if predicate is None or predicate(req):
                        return req
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching request in {timeout}s ({len(self._requests)} seen)")
                self._lock.wait(remaining)

    def _record(self, request: ReceivedRequest) -> int:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()
            return self.status
