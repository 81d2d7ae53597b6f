"""Slack Web API clients: ``SLACK_API_URL`` as the base, 429 ``Retry-After`` honoured, 5xx and
dropped connections retried.

The rate-limit handler sleeps in the calling thread, which is only ever a lazy listener or a
background sender: listeners ack before they call Slack, so a 429 never holds up an ack.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from bot.settings import Settings

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
    return WebClient(token=token, base_url=base_url, timeout=10, retry_handlers=retry_handlers())
