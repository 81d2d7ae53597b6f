"""Posting to a ``response_url`` over kept-alive connections.

slack_sdk's ``WebhookClient`` opens a new connection (and in production a new TLS session) for
every post; ``handlers.runtime.kept_alive`` keeps one per thread and host instead. Retries follow
the Web API client's (bot/slack_client.py): a dropped connection once, 429 honouring
``Retry-After`` and Slack's 500/503 twice each. The caller's thread sleeps: a follow-up,
never an ack.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

from handlers.runtime import kept_alive

TIMEOUT_SECONDS = 10.0
_CONNECTION_RETRIES = 1
_RATE_LIMIT_RETRIES = 2
_SERVER_ERROR_RETRIES = 2
_MAX_RETRY_AFTER_SECONDS = 30.0
_HEADERS = {"Content-Type": "application/json;charset=utf-8", "User-Agent": "billing-bot"}

class _Reply:
    def __init__(self, status: int, retry_after: str | None) -> None:
        self.status = status
        self.retry_after = retry_after


def post_response(url: str, body: dict[str, Any]) -> int:
    """POST ``body`` (``None`` values dropped, as WebhookClient does) to ``url``; the final status."""
    content = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
    connection_retries = rate_retries = server_retries = 0
    while True:
        try:
            reply = _post(url, content)
        except (OSError, http.client.HTTPException):
            if connection_retries >= _CONNECTION_RETRIES:
                raise
            connection_retries += 1
            continue
        if reply.status == 429 and rate_retries < _RATE_LIMIT_RETRIES:
            rate_retries += 1
            time.sleep(_seconds(reply.retry_after))
            continue
        if reply.status in (500, 503) and server_retries < _SERVER_ERROR_RETRIES:
            server_retries += 1
            time.sleep(0.5 * 2 ** (server_retries - 1))
            continue
        return reply.status


def _post(url: str, content: bytes) -> _Reply:
    reply = kept_alive.post(url, content, _HEADERS, timeout=TIMEOUT_SECONDS)
    return _Reply(reply.status, reply.headers.get("Retry-After"))


def _seconds(retry_after: str | None) -> float:
    try:
        return min(max(float(retry_after or "1"), 0.0), _MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        return 1.0
