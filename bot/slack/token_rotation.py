"""Slack token rotation: a bot token is refreshed before it expires, wherever it is read.

"Without token rotation, the access token never expires. With token rotation, it expires every 12
hours"; a refresh token is exchanged for a new pair with ``oauth.v2.access``
(``grant_type=refresh_token``) and is then revoked (docs.slack.dev/authentication/using-token-rotation).
Bolt rotates only in its own built-in authorizer, so the installation store does it here, on every
``find_bot`` (listeners and background sends alike) through slack-sdk's ``TokenRotator``.

A refresh token works once. Several replicas share the database, so a refresh holds the
installation's row of ``billing_token_refresh`` locked (``SELECT ... FOR UPDATE`` on PostgreSQL; the
write lock on SQLite), reads the installation again inside the lock (another replica may have just
refreshed it) and only then exchanges the refresh token; the new tokens are written, encrypted like
all tokens, in that same transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from billing_core.db.tables import TokenRefreshRecord

logger = logging.getLogger(__name__)

# Bolt's default: refresh within two hours of expiry, far more than any cache of a token here.
MINUTES_BEFORE_EXPIRATION = 120

Refresh = TokenRefreshRecord


class TokenRotation:
    """When a bot token needs refreshing, and the refresh itself (one ``oauth.v2.access`` call)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        client: WebClient,
        minutes_before_expiration: int = MINUTES_BEFORE_EXPIRATION,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._rotator = TokenRotator(client_id=client_id, client_secret=client_secret, client=client)
        self._minutes = minutes_before_expiration
        self._now = now

    def expiring(self, bot: Bot) -> bool:
        """True for a rotating token (it has a refresh token and an expiry) due for a refresh."""
        expires_at = bot.bot_token_expires_at
        return (
            bool(bot.bot_refresh_token) and expires_at is not None and (expires_at <= self._now() + self._minutes * 60)
        )

    def rotate(self, bot: Bot) -> Bot | None:
        """The refreshed bot, or ``None`` when Slack refused (logged; the old token is kept)."""
        try:
            return self._rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=self._minutes)
        except SlackTokenRotationError as error:
            logger.error(
                "Slack token refresh failed for team %s: %s",
                bot.team_id or bot.enterprise_id,
                getattr(error.api_error, "response", {}).get("error", "unknown"),
            )
            return None


def installation_key(bot: Bot) -> str:
    """``T123``, ``E1:T123`` or (org-wide) ``E1``: the row a refresh of this installation locks."""
    return ":".join(part for part in (bot.enterprise_id, bot.team_id) if part) or "-"


def lock_installation(connection: Connection, key: str) -> None:
    """Hold the installation's refresh row until the transaction ends (created first if missing)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(insert(Refresh).values(installation=key, refreshes=0).on_conflict_do_nothing())
    connection.execute(select(Refresh.installation).where(Refresh.installation == key).with_for_update())


def record_refresh(connection: Connection, key: str, at: float) -> None:
    from datetime import UTC, datetime

    connection.execute(
        update(Refresh)
        .where(Refresh.installation == key)
        .values(refreshed_at=datetime.fromtimestamp(at, tz=UTC), refreshes=Refresh.refreshes + 1)
    )
