"""A small fault-injecting proxy for tests: put it between the bot and localstripe, the Slack Web
API stand-in or the SMTP sink, then program faults.

Two modes:

* ``http=True`` (Stripe, Slack): every request is parsed (request line, headers, ``Content-Length``
  body) so faults can target one kind of call (``match="POST /v1/payment_intents"``). Each request
  is forwarded on its own upstream connection and the answer is sent back with ``Connection: close``.
* ``http=False`` (SMTP, any TCP): faults apply to whole connections; bytes are piped both ways.

Faults (each for the next ``count`` matching requests/connections, ``None`` = until cleared):

* ``delay(seconds)``: wait, then forward (a slow upstream).
* ``reset()``: close the client connection with a TCP RST.
* ``answer(status)``: an HTTP error answer (e.g. 503) from the proxy.
* ``blackhole()``: accept and never answer (until :meth:`release` or :meth:`stop`), like a timeout.

``skip=N`` lets the first N matching requests through before the fault starts.

``forward_first=True`` (HTTP mode) forwards the request upstream *before* the fault strikes: the
upstream acts on it (Stripe charges), but its answer is lost, delayed or replaced. This is the
"unknown outcome" case a payment system must reconcile.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import BinaryIO

from devtools.loopback.server import LoopbackServer, QuietErrors

__all__ = ["Fault", "FaultProxy", "SeenRequest"]

_HEAD_LIMIT = 64 * 1024


@dataclass
class Fault:
    kind: str  # "delay" | "reset" | "answer" | "blackhole"
    match: str | None = None  # substring of the request line (HTTP mode)
    count: int | None = 1
    seconds: float = 0.0
    status: int = 503
    forward_first: bool = False
    skip: int = 0  # let this many matching requests through untouched first


@dataclass(frozen=True)
class SeenRequest:
    """A request (HTTP mode: its request line) or connection (TCP mode: ``"CONNECT"``) and its fate."""

    line: str
    fault: str | None
    at: float = field(default_factory=time.monotonic)


class _ProxyServer(QuietErrors, socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: FaultProxy


class _Connection(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        self.server.proxy._serve(self.request)


class FaultProxy(LoopbackServer):
    """``127.0.0.1:<port>`` -> ``upstream_host:upstream_port``, with programmable faults."""

    thread_name = "fault-proxy"

    def __init__(self, upstream_host: str, upstream_port: int, *, http: bool = True) -> None:
        super().__init__()
        self.upstream = (upstream_host, upstream_port)
        self.http = http
        self._faults: list[Fault] = []
        self._seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._open: set[socket.socket] = set()

    @classmethod
    def for_url(cls, url: str, *, http: bool = True) -> FaultProxy:
        """A proxy in front of ``http://host:port/...`` or ``smtp://host:port``."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 80, http=http)

    # -- life cycle ------------------------------------------------------------------------

    def make_server(self, address: tuple[str, int]) -> socketserver.TCPServer:
        server = _ProxyServer(address, _Connection)
        server.proxy = self
        return server

    def stop(self) -> None:
        """Stop accepting, let held requests go, and drop every open connection."""
        self._released.set()
        super().stop()
        with self._lock:
            for sock in list(self._open):
                _close(sock)

    # -- programming -----------------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        self._released.clear()
        return fault

    def delay(
        self, seconds: float, match: str | None = None, count: int | None = 1, *, forward_first: bool = False
    ) -> Fault:
        return self.add(Fault("delay", match, count, seconds=seconds, forward_first=forward_first))

    def reset(self, match: str | None = None, count: int | None = 1, *, forward_first: bool = False) -> Fault:
        return self.add(Fault("reset", match, count, forward_first=forward_first))

    def answer(
        self, status: int = 503, match: str | None = None, count: int | None = 1, *, forward_first: bool = False
    ) -> Fault:
        return self.add(Fault("answer", match, count, status=status, forward_first=forward_first))

    def blackhole(
        self, match: str | None = None, count: int | None = 1, *, forward_first: bool = False, skip: int = 0
    ) -> Fault:
        return self.add(Fault("blackhole", match, count, forward_first=forward_first, skip=skip))

    def clear(self) -> None:
        """No more faults; held (blackholed or delayed) requests are let go (their clients get a reset)."""
        with self._lock:
            self._faults.clear()
        self._released.set()

    release = clear

    # -- inspection ------------------------------------------------------------------------

    def seen(self, match: str | None = None) -> list[SeenRequest]:
        with self._lock:
            return [s for s in self._seen if match is None or match in s.line]

    def wait_seen(self, match: str | None = None, count: int = 1, timeout: float = 15.0) -> list[SeenRequest]:
        deadline = time.monotonic() + timeout
        while len(self.seen(match)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the proxy did not see {count} request(s) matching {match!r}")
            time.sleep(0.02)
        return self.seen(match)

    # -- internals -------------------------------------------------------------------------

    def _take(self, line: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.match is None or fault.match in line:
                    if fault.skip > 0:
                        fault.skip -= 1
                        break
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self._faults.remove(fault)
                    self._seen.append(SeenRequest(line, fault.kind))
                    return fault
            self._seen.append(SeenRequest(line, None))
            return None

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._open.add(client)
        try:
            (self._serve_http if self.http else self._serve_tcp)(client)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(client)
            _close(client)

    def _hold(self, seconds: float | None) -> None:
        self._released.wait(seconds)

    def _strike(self, fault: Fault, client: socket.socket) -> bool:
        """Apply ``fault``; True when the client's connection is finished with."""
        if fault.kind == "delay":
            self._hold(fault.seconds)
            return False
        if fault.kind == "reset":
            _reset(client)
            return True
        if fault.kind == "answer":
            body = b'{"error": {"message": "injected fault"}}'
            client.sendall(
                f"HTTP/1.1 {fault.status} Injected\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            return True
        # blackhole: hold until released or stopped, then drop the connection
        self._hold(None)
        _reset(client)
        return True

    # HTTP mode

    def _serve_http(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        while True:
            request = _read_request(reader)
            if request is None:
                return
            line, raw = request
            fault = self._take(line)
            if fault is not None and not fault.forward_first and self._strike(fault, client):
                return
            answer = self._forward(raw)
            if fault is not None and fault.forward_first and self._strike(fault, client):
                return
            client.sendall(answer)
            return  # one request per connection: the answer says Connection: close

    def _forward(self, raw: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as upstream:
            upstream.sendall(raw)
            chunks = []
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return _with_connection_close(b"".join(chunks))

    # TCP mode

    def _serve_tcp(self, client: socket.socket) -> None:
        fault = self._take("CONNECT")
        if fault is not None and self._strike(fault, client):
            return
        with socket.create_connection(self.upstream, timeout=60) as upstream:
            upstream.settimeout(None)
            pump = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            pump.start()
            _pipe(client, upstream)
            pump.join(timeout=5)


def _read_request(reader: BinaryIO) -> tuple[str, bytes] | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline(_HEAD_LIMIT)
        if not line:
            return None
        head += line
        if len(head) > _HEAD_LIMIT:
            return None
    lines = head.split(b"\r\n")
    request_line = lines[0].decode("latin-1")
    headers: list[bytes] = []
    length = 0
    for header in lines[1:]:
        if not header:
            continue
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
        if name.strip().lower() in (b"connection", b"keep-alive"):
            continue
        headers.append(header)
    body = reader.read(length) if length else b""
    raw = b"\r\n".join([lines[0], *headers, b"Connection: close", b"", b""]) + body
    return request_line, raw


def _with_connection_close(response: bytes) -> bytes:
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return response
    lines = [ln for ln in head.split(b"\r\n") if ln.split(b":", 1)[0].strip().lower() != b"connection"]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0) rather than a polite FIN: the client sees 'connection reset'."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
