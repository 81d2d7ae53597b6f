"""HTTP requests to Slack over kept-alive connections, one per thread and host.

urllib (under slack_sdk's clients) opens a new connection for every call, and in production a
new TLS session with it: more CPU and a few round trips more than the call itself. Calls come
from listener threads and background senders, so each thread keeps its own connection per host:
no locking and no pool to manage. A connection idle for longer than ``IDLE_SECONDS`` is replaced
before use (servers close idle ones), and a kept connection the server closed in the meantime is
replaced and the request sent once more on a fresh one; any other failure (a timeout, a broken
answer) is the caller's, who decides whether a retry is safe.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from dataclasses import dataclass
from email.message import Message

IDLE_SECONDS = 30.0

_local = threading.local()

# What a kept connection raises when the server had closed it before our request reached it.
_CLOSED_BY_SERVER = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes


@dataclass
class _Kept:
    connection: http.client.HTTPConnection
    used_at: float


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Reply:
    """POST ``body`` to the http(s) ``url`` and read the whole answer, whatever its status."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise http.client.InvalidURL(f"not an http(s) URL: {parts.scheme}")
    key = (parts.scheme, parts.hostname, parts.port)
    kept: dict[tuple[str, str, int | None], _Kept] = _local.__dict__.setdefault("connections", {})
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    now = time.monotonic()
    entry = kept.pop(key, None)
    if entry is not None and now - entry.used_at > IDLE_SECONDS:
        entry.connection.close()
        entry = None
    reused = entry is not None
    connection = entry.connection if entry is not None else _connect(parts.scheme, parts.hostname, parts.port, timeout)
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
    except _CLOSED_BY_SERVER:
        connection.close()
        if not reused:
            raise
        # The server closed the kept connection while it sat idle: once more on a fresh one.
        return post(url, body, headers, timeout=timeout)
    except BaseException:
        connection.close()  # a timeout or a broken answer: never reuse this connection, never resend
        raise
    if response.will_close:
        connection.close()
    else:
        kept[key] = _Kept(connection, time.monotonic())
    return Reply(response.status, response.msg, content)


def _connect(scheme: str, host: str, port: int | None, timeout: float) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout)
    return http.client.HTTPConnection(host, port, timeout=timeout)
