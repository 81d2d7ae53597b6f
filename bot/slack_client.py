"""Slack Web API clients: ``SLACK_API_URL`` as the base, 429 ``Retry-After`` honoured, 5xx and
dropped connections retried.

The rate-limit handler sleeps in the calling thread, which is only ever a follow-up or a
background sender: listeners ack before they call Slack, so a 429 never holds up an ack.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from bot.settings import Settings
from handlers.runtime import kept_alive

BOT_SCOPES = ("commands", "chat:write", "users:read", "users:read.email", "im:write")


def retry_handlers() -> list[RetryHandler]:
    return [
        ConnectionErrorRetryHandler(max_retry_count=1),
        RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),  # Slack's own 500/503s are transient
    ]


def make_web_client(settings: Settings, token: str | None = None, *, bot_token: bool = True) -> WebClient:
    """A client for ``token`` (default: ``SLACK_BOT_TOKEN`` unless ``bot_token=False``) at ``SLACK_API_URL``."""
    if token is None and bot_token and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return KeptAliveWebClient(token=token, base_url=base_url, timeout=10, retry_handlers=retry_handlers())


class KeptAliveWebClient(WebClient):
    """A WebClient whose calls reuse their thread's connection to Slack (``handlers.runtime.kept_alive``).

    slack_sdk sends each call through ``urlopen``: a new connection and TLS session per call.
    Only that last step is replaced; building the request, the retry handlers and reading the
    answer stay slack_sdk's. A non-2xx answer is raised as ``HTTPError``, as ``urlopen`` does,
    so 429s and 5xxs reach the same retry handlers. Behind a proxy, slack_sdk's own path.
    """

    def _perform_urllib_http_request_internal(self, url: str, req: urllib.request.Request) -> dict[str, Any]:
        if self.proxy is not None:
            return super()._perform_urllib_http_request_internal(url, req)
        data = req.data if isinstance(req.data, bytes) else b""
        reply = kept_alive.post(url, data, dict(req.header_items()), timeout=float(self.timeout))
        if not 200 <= reply.status < 300:
            answer = io.BytesIO(reply.body)
            raise urllib.error.HTTPError(url, reply.status, "Slack answered an error", reply.headers, answer)
        if reply.headers.get_content_type() == "application/gzip":
            return {"status": reply.status, "headers": reply.headers, "body": reply.body}
        charset = reply.headers.get_content_charset() or "utf-8"
        return {"status": reply.status, "headers": reply.headers, "body": reply.body.decode(charset)}


def use_kept_alive_client(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Bolt middleware: listeners get a ``KeptAliveWebClient`` in place of the plain WebClient Bolt
    builds for every request (same token, after authorization, and the same settings)."""
    client = context.client
    if client is not None and not isinstance(client, KeptAliveWebClient):
        context["client"] = KeptAliveWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=client.headers,
            team_id=context.team_id,
            logger=client.logger,
            retry_handlers=client.retry_handlers,
        )
    return next()
