"""In-process loopback servers served from a daemon thread, quiet about clients that hang up.

One base for every in-process server: :class:`LoopbackServer` binds a free port on 127.0.0.1,
serves in a daemon thread, stops, and works as a context manager (:class:`Serving`). Its HTTP kind,
:class:`StandInServer`, answers :class:`Request` s with :class:`Reply` s: the console's Slack Web API
and the tests' stand-ins (Slack, the Stripe proxy, webhook receivers, Checkout) are subclasses; the
tests' TCP fault proxy uses :class:`LoopbackServer` directly. :class:`CallLog` keeps what was sent
for those that record it.

``socketserver`` prints a traceback between two lines of dashes to ``sys.stderr`` when a handler
fails, from the server's thread, whenever that happens: into the console's screen, or into a test's
captured output. The bot keeps its connections to Slack open, so a client resetting one (when its
thread ends) is routine and no error at all; anything else is logged.
"""

from __future__ import annotations

import json
import logging
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

logger = logging.getLogger(__name__)

_HANG_UPS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, TimeoutError)

T = TypeVar("T")
R = TypeVar("R")


class QuietErrors:
    """For a ``socketserver`` server: handler failures go to the log, client hang-ups nowhere."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, _HANG_UPS):
            logger.debug("a client closed its connection: %s", error)
            return
        logger.warning("failed on a request from %s", client_address, exc_info=True)


class QuietThreadingHTTPServer(QuietErrors, ThreadingHTTPServer):
    """``ThreadingHTTPServer`` whose handler failures go to the log, client hang-ups nowhere."""


class Serving:
    """Something started and stopped; ``with`` it starts it, and stops it on the way out."""

    def start(self) -> Self:
        """Start; returns ``self``."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop (no-op when stopped)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class LoopbackServer(Serving):
    """A ``socketserver`` server on ``127.0.0.1:<free port>``, served from a daemon thread until :meth:`stop`."""

    thread_name = "loopback-server"
    poll_interval = 0.05

    def __init__(self) -> None:
        self._server: socketserver.TCPServer | None = None
        self._thread: threading.Thread | None = None

    def make_server(self, address: tuple[str, int]) -> socketserver.TCPServer:
        """A server bound to ``address`` whose handlers call back into this object."""
        raise NotImplementedError

    def start(self) -> Self:
        """Bind a free loopback port and serve in a daemon thread (no-op when serving)."""
        if self._server is None:
            server = self.make_server(("127.0.0.1", 0))
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": self.poll_interval},
                name=self.thread_name,
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    @property
    def port(self) -> int:
        """The port being served."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        port: int = self._server.server_address[1]
        return port

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a path."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL of ``path`` on this server."""
        return f"{self.root_url}/{path.lstrip('/')}"


@dataclass(frozen=True)
class Request:
    """One request as a stand-in received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Reply:
    """What a stand-in answers; ``Content-Length`` is added when it is sent."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls,
        answer: Any,
        status: int = 200,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """``answer`` as a JSON body."""
        return cls(status, json.dumps(answer).encode(), {**(headers or {}), "Content-Type": content_type})

    @classmethod
    def text(cls, text: str, status: int = 200, *, content_type: str = "text/plain") -> Reply:
        """``text`` as a plain-text body."""
        return cls(status, text.encode(), {"Content-Type": content_type})


class _Server(QuietThreadingHTTPServer):
    stand_in: StandInServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out as two writes; with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers (40 ms on Linux) on every kept-alive call.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No access log."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        reply = self.server.stand_in.answer(Request(self.command, self.path, headers, body))
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


class StandInServer(LoopbackServer):
    """An HTTP/1.1 server whose every request gets :meth:`answer`'s reply."""

    thread_name = "stand-in"

    def answer(self, request: Request) -> Reply:
        """The reply to one request (called from the server's threads)."""
        raise NotImplementedError

    def make_server(self, address: tuple[str, int]) -> socketserver.TCPServer:
        server = _Server(address, _Handler)
        server.stand_in = self
        return server


class CallLog(Generic[T]):
    """What a stand-in was sent, oldest first; thread-safe, and one can wait for what is expected."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._entries: list[T] = []

    def add(self, entry: T) -> None:
        """Record ``entry`` and wake those waiting."""
        with self._changed:
            self._entries.append(entry)
            self._changed.notify_all()

    def entries(self) -> list[T]:
        """Everything recorded so far."""
        with self._changed:
            return list(self._entries)

    def clear(self) -> None:
        """Forget everything recorded."""
        with self._changed:
            self._entries.clear()

    def wait_until(self, check: Callable[[list[T]], R], timeout: float, missing: Callable[[list[T]], str]) -> R:
        """``check(entries)`` once it is truthy; ``TimeoutError(missing(entries))`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (found := check(list(self._entries))):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(missing(list(self._entries)))
                self._changed.wait(remaining)
            return found
