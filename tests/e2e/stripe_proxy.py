"""A delaying HTTP proxy in front of localstripe: records when each Stripe call started and ended."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from bot.quiet_http_server import QuietThreadingHTTPServer


@dataclass
class ProxiedCall:
    method: str
    path: str
    started: float
    finished: float | None = None


class _Server(QuietThreadingHTTPServer):
    daemon_threads = True
    proxy: StripeProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        call = proxy._started(self.command, self.path)
        if self.command == "POST" and self.path.startswith("/v1/checkout/sessions"):
            # localstripe has no Checkout: answer like Stripe does for a setup-mode session.
            proxy._finished(call)
            self._send(200, json.dumps(proxy.checkout_session()).encode(), {"Content-Type": "application/json"})
            return
        delay = proxy.delay_for(self.command, self.path)
        if delay:
            proxy._wait(delay)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        request = urllib.request.Request(proxy.upstream + self.path, data=body, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, reply, reply_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, reply, reply_headers = error.code, error.read(), error.headers
        proxy._finished(call)
        self.send_response(status)
        for key, value in reply_headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def _send(self, status: int, reply: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = _forward
    do_POST = _forward
    do_DELETE = _forward


class StripeProxy:
    """``base_url`` goes to ``upstream``; ``slow_down(path_prefix)`` holds matching POSTs until released."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.calls: list[ProxiedCall] = []
        self._slow: tuple[str, float] | None = None
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._sessions = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> StripeProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def slow_down(self, path_prefix: str, seconds: float) -> None:
        """Hold POSTs under ``path_prefix`` for ``seconds`` (or until :meth:`release`)."""
        self._release.clear()
        self._slow = (path_prefix, seconds)

    def release(self) -> None:
        self._slow = None
        self._release.set()

    def delay_for(self, method: str, path: str) -> float:
        slow = self._slow
        return slow[1] if slow and method == "POST" and path.startswith(slow[0]) else 0.0

    def _wait(self, seconds: float) -> None:
        self._release.wait(seconds)

    def _started(self, method: str, path: str) -> ProxiedCall:
        call = ProxiedCall(method, path, time.monotonic())
        with self._lock:
            self.calls.append(call)
        return call

    def _finished(self, call: ProxiedCall) -> None:
        call.finished = time.monotonic()

    def checkout_session(self) -> dict[str, Any]:
        n = next(self._sessions)
        return {"id": f"cs_e2e_{n}", "object": "checkout.session", "mode": "setup",
                "url": f"https://checkout.stripe.test/c/setup/cs_e2e_{n}", "status": "open"}

    def calls_to(self, method: str, prefix: str) -> list[ProxiedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]
