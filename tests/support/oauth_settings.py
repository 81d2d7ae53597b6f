"""Settings of the app distributed by OAuth (many workspaces), against the Slack stand-in."""

from __future__ import annotations

from bot.settings import Settings


def oauth_settings(database_url: str, slack_api_url: str, signing_secret: str, **extra: str) -> Settings:
    """``SLACK_CLIENT_ID``/``SECRET`` set (OAuth mode), people prove their e-mail by code."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="shh",
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=slack_api_url,
        IDENTITY_VERIFICATION="email_code",
        **extra,
    )
