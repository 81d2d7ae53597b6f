"""Settings of the app distributed by OAuth (many workspaces), against the Slack stand-in."""

from __future__ import annotations

from bot.settings import Settings
from tests.support.settings import settings_from


def oauth_settings(database_url: str, slack_api_url: str, signing_secret: str, **extra: str) -> Settings:
    """``SLACK_CLIENT_ID``/``SECRET`` set (OAuth mode), people prove their e-mail by code."""
    return settings_from(
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="shh",
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=slack_api_url,
        IDENTITY_VERIFICATION="email_code",
        **extra,
    )
