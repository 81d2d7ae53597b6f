"""Posting one signed event to ``OUTBOUND_WEBHOOK_URL``.

The whole request, from connecting to the last byte read, has one deadline (``TOTAL_SECONDS``,
below the outbox's 30-second lease): a per-read timeout alone lets a receiver that trickles its
answer hold an attempt past the lease, and another process would send the same event at once. At
the deadline a watchdog shuts the socket down, which ends whatever read is blocked. Only the status
matters, so at most ``MAX_BODY_BYTES`` of the answer's body are read, never the whole of it.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from urllib.parse import urlsplit

from billing_core.outbound.delivery import Attempt
from billing_core.outbound.signing import HEADER, signature

CONNECT_SECONDS = 5.0
READ_SECONDS = 10.0
TOTAL_SECONDS = 20.0  # connect + send + status + headers + body, together: below BackoffPolicy.lease (30 s)
MAX_BODY_BYTES = 64 * 1024


class WebhookEndpoint:
    """The vendor's endpoint. Any answer but 2xx (or no answer in time) is an attempt to retry."""

    channel = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        concurrency: int = 4,
        total_seconds: float = TOTAL_SECONDS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.url = url
        self._secret = secret
        self.concurrency = concurrency
        self._total = total_seconds
        self._max_body = max_body_bytes
        self._tls = ssl.create_default_context()

    def send(self, event_id: str, event_type: str, body: str, now: int) -> Attempt:
        payload = body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "billing-bot-webhooks/1",
            HEADER: signature(self._secret, now, payload),
        }
        parts = urlsplit(self.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._connection(parts.scheme, parts.hostname or "", parts.port)
        expired = threading.Event()
        watchdog = threading.Timer(self._total, _cut, (connection, expired))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("POST", path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read(self._max_body)  # the rest of a long body is never read
            status = response.status
        except (OSError, http.client.HTTPException, ValueError) as error:
            if not expired.is_set():
                return Attempt(ok=False, status=None, error=f"{type(error).__name__}: {error}"[:500])
        finally:
            watchdog.cancel()
            connection.close()
        if expired.is_set():  # cut off mid-answer: what was read may end anywhere, even in the headers
            return Attempt(ok=False, status=None, error=f"no complete answer within {self._total:g} s")
        if 200 <= status < 300:
            return Attempt(ok=True, status=status)
        return Attempt(ok=False, status=status, error=f"answered HTTP {status}")

    def _connection(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        timeout = min(READ_SECONDS, self._total)
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def close(self) -> None:
        """Nothing is kept open between attempts."""


def _cut(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """The deadline passed: end the blocked connect, write or read."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
