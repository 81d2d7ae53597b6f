"""Many workspaces: slack-sdk's SQLAlchemy installation and state stores, in our database.

Their tables (``slack_bots``, ``slack_installations``, ``slack_oauth_states``) belong to slack-sdk
and are not Alembic-managed: ``create_tables()`` creates them when missing, at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.slack_client import BOT_SCOPES

logger = logging.getLogger(__name__)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    store = SQLAlchemyInstallationStore(client_id=str(settings.slack_client_id), engine=engine)
    _create_quietly(store.create_tables)
    return store


def oauth_settings(settings: Settings, engine: Engine, store: SQLAlchemyInstallationStore) -> OAuthSettings:
    state_store = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    _create_quietly(state_store.metadata.create_all, engine)
    assert settings.slack_client_secret is not None
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        installation_store=store,
        state_store=state_store,
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
    )


def _create_quietly(create: Any, *args: Any) -> None:
    # Two processes starting together may both try CREATE TABLE; the loser finds them there.
    try:
        create(*args)
    except Exception:
        create(*args)


class StoreAuthorize(Authorize):
    """Bot token for a workspace from the installation store, without an ``auth.test`` call
    (Bolt's default makes one, a Web API call before the ack)."""

    def __init__(self, store: SQLAlchemyInstallationStore) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._store = store

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        bot = self._store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            logger.info("no installation for team %s", team_id)
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
        )


def bot_token_finder(store: SQLAlchemyInstallationStore) -> Callable[[str], str | None]:
    """team id -> that workspace's bot token (for DMs sent outside a request)."""

    def find(team_id: str) -> str | None:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    return find
