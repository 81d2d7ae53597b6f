"""Posting to a ``response_url``, over the same pooled connections and with the same retries as the
Web API client (``handlers.runtime.slack_http``): slack_sdk's ``WebhookClient`` would open a new
connection (and in production a new TLS session) for every post. The caller's thread sleeps
between tries: a follow-up, never an ack.
"""

from __future__ import annotations

import json
from typing import Any

from handlers.runtime import slack_http

TIMEOUT_SECONDS = 10.0
_HEADERS = {"Content-Type": "application/json;charset=utf-8", "User-Agent": "billing-bot"}


def post_response(url: str, body: dict[str, Any]) -> int:
    """POST ``body`` (``None`` values dropped, as WebhookClient does) to ``url``; the final status."""
    content = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
    return slack_http.post(url, content, _HEADERS, timeout=TIMEOUT_SECONDS).status
