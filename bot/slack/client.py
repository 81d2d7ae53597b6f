"""Slack Web API clients built from settings: ``SLACK_API_URL`` as the base, the bot token, and the
runtime's pooled connections and retries (``handlers.runtime.web_api``)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.settings import Settings
from handlers.runtime.slack_http import retry_handlers
from handlers.runtime.web_api import SlackWebClient

BOT_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "users:read.email",
    "im:write",
    "im:history",
    "app_mentions:read",
    "assistant:write",  # chat (handlers/chat)
)
# Optional (manifest ``bot_optional``, docs.slack.dev/changelog/2026/03/16/optional-scopes): only the
# vendor's workspace, which holds SUPPORT_SLACK_CHANNEL, grants it. groups:read reads the private
# support channel's settings (private, not shared over Slack Connect) and its members ("Mark resolved").
BOT_OPTIONAL_SCOPES = ("groups:read", "groups:history")


def make_web_client(settings: Settings, token: str | None = None, *, bot_token: bool = True) -> WebClient:
    """A client for ``token`` (default: ``SLACK_BOT_TOKEN`` unless ``bot_token=False``) at ``SLACK_API_URL``."""
    if token is None and bot_token and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return SlackWebClient(token=token, base_url=base_url, timeout=10, retry_handlers=retry_handlers())
