"""Posting one signed event to ``OUTBOUND_WEBHOOK_URL``."""

from __future__ import annotations

import urllib3

from billing_core.outbound.delivery import Attempt
from billing_core.outbound.signing import HEADER, signature

CONNECT_SECONDS = 5.0
READ_SECONDS = 10.0


class WebhookEndpoint:
    """The vendor's endpoint. Any answer but 2xx (or no answer) is an attempt to retry."""

    channel = "webhook"

    def __init__(self, url: str, secret: str, *, concurrency: int = 4) -> None:
        self.url = url
        self._secret = secret
        self.concurrency = concurrency
        self._pool = urllib3.PoolManager(
            num_pools=2, maxsize=concurrency, retries=False,
            timeout=urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS),
        )

    def send(self, event_id: str, event_type: str, body: str, now: int) -> Attempt:
        payload = body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "billing-bot-webhooks/1",
            HEADER: signature(self._secret, now, payload),
        }
        try:
            response = self._pool.request("POST", self.url, body=payload, headers=headers, redirect=False)
        except urllib3.exceptions.HTTPError as error:
            return Attempt(ok=False, status=None, error=f"{type(error).__name__}: {error}"[:500])
        if 200 <= response.status < 300:
            return Attempt(ok=True, status=response.status)
        return Attempt(ok=False, status=response.status, error=f"answered HTTP {response.status}")

    def close(self) -> None:
        self._pool.clear()
