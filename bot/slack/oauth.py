"""Many workspaces: slack-sdk's SQLAlchemy installation and state stores, in our database.

Their tables (``slack_bots``, ``slack_installations``, ``slack_oauth_states``) belong to slack-sdk
and are not Alembic-managed: ``create_tables()`` creates them when missing, at start-up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.error import BoltError
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from billing_core.errors import ConfigurationError
from bot.settings import Settings
from bot.slack.client import BOT_SCOPES, make_web_client
from bot.slack.installation_store import EncryptedInstallationStore
from bot.slack.token_cipher import TokenCipher, TokenUnreadable
from bot.slack.token_rotation import TokenRotation
from bot.slack.workspaces import find_installed_bot
from handlers.runtime.ttl_cache import TtlCache

logger = logging.getLogger(__name__)

AUTHORIZE_CACHE_SECONDS = 30.0

STATE_LIFETIME_SECONDS = 600
# Installs started (``GET /slack/install``) and not finished within the state's lifetime.
MAX_PENDING_INSTALLS = 1000


class InstallNotAllowed(BoltError):
    """An OAuth install from a workspace or Grid org that ``SLACK_INSTALL_ALLOWED_TEAMS`` leaves out."""


class AllowListedInstallationStore(EncryptedInstallationStore):
    """The installation store (tokens encrypted at rest), refusing to keep installations the
    operator did not allow.

    A refused installation's fresh tokens are revoked at once (``auth.revoke``), so nothing of it
    stays usable, and nothing is written. A stored installation that the list no longer names is
    not found: every path to a workspace (Bolt's authorization of a request, reminders, DMs, the
    support channel) looks its token up here, so one policy serves them all.
    """

    def __init__(self, settings: Settings, engine: Engine) -> None:
        key = settings.slack_token_encryption_key
        cipher = TokenCipher(key.get_secret_value()) if key is not None else None
        secret = settings.slack_client_secret
        # Rotating tokens (manifest token_rotation_enabled) are refreshed before they expire.
        rotation = (
            TokenRotation(
                client_id=str(settings.slack_client_id),
                client_secret=secret.get_secret_value(),
                client=make_web_client(settings, bot_token=False),
            )
            if secret is not None
            else None
        )
        super().__init__(client_id=str(settings.slack_client_id), engine=engine, cipher=cipher, rotation=rotation)
        self._settings = settings

    def allows(self, team_id: str | None, enterprise_id: str | None) -> bool:
        return self._settings.may_install(team_id, enterprise_id)

    def usable(self, team_id: str | None, enterprise_id: str | None) -> bool:
        """A stored installation is found only while the allow list names it."""
        if self.allows(team_id, enterprise_id):
            return True
        logger.info("installation of team %s, enterprise %s is no longer allowed: not used", team_id, enterprise_id)
        return False

    def save(self, installation: Installation) -> None:
        if not self.allows(installation.team_id, installation.enterprise_id):
            logger.warning(
                "installation refused: team %s, enterprise %s not in SLACK_INSTALL_ALLOWED_TEAMS",
                installation.team_id,
                installation.enterprise_id,
            )
            for token in (installation.bot_token, installation.user_token):
                if token:
                    _revoke(self._settings, token)
            raise InstallNotAllowed("this workspace may not install the app")
        super().save(installation)


def _revoke(settings: Settings, token: str) -> None:
    try:
        make_web_client(settings, token=token).auth_revoke()
    except (SlackApiError, OSError) as error:
        logger.warning("auth.revoke of a refused installation failed: %s", type(error).__name__)


def installation_store(settings: Settings, engine: Engine) -> AllowListedInstallationStore:
    """The installation store in our database; at start-up, also the identity-policy check."""
    settings.check_identity_policy()
    settings.check_support_workspace()
    store = AllowListedInstallationStore(settings, engine)
    _create_quietly(store.create_tables)
    if store.cipher is None:
        if store.holds_encrypted_tokens():
            raise ConfigurationError(
                "stored Slack tokens are encrypted but SLACK_TOKEN_ENCRYPTION_KEY is not set: "
                "set it to the key they were encrypted with"
            )
        logger.warning("Slack tokens are stored unencrypted: set SLACK_TOKEN_ENCRYPTION_KEY (see SECURITY.md)")
    return store


def reencrypt_tokens(settings: Settings) -> str:
    """``billing-bot installations reencrypt``: every stored Slack token under the first key."""
    from billing_core.db.database import Database

    settings.require("SLACK_CLIENT_ID", "SLACK_TOKEN_ENCRYPTION_KEY")
    database = Database(settings.database_url)
    try:
        store = AllowListedInstallationStore(settings, database.engine)
        _create_quietly(store.create_tables)
        try:
            return f"re-encrypted {store.reencrypt()} row(s)"
        except TokenUnreadable as error:  # nothing was changed: the rows are rewritten in one transaction
            raise ConfigurationError(
                "a stored Slack token cannot be decrypted with any key in SLACK_TOKEN_ENCRYPTION_KEY; nothing "
                "was changed (list the new key first and the key the tokens were encrypted with after it)"
            ) from error
    finally:
        database.dispose()


class TooManyPendingInstalls(BoltError):
    """``MAX_PENDING_INSTALLS`` unexpired OAuth states exist: no new one is written."""


class PurgingOAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack-sdk's state store, bounded: ``GET /slack/install`` needs no authentication and wrote a
    row each time, kept forever. Each new state first deletes the expired ones, and none is
    written while ``MAX_PENDING_INSTALLS`` live ones exist."""

    def issue(self, *args: Any, **kwargs: Any) -> str:
        now = normalize_datetime_for_db(datetime.now(tz=UTC))
        table = self.oauth_states
        with self.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.expire_at <= now))
            live = connection.execute(select(func.count()).select_from(table)).scalar_one()
        if live >= MAX_PENDING_INSTALLS:
            logger.warning("refusing a new install: %d installs are pending", live)
            raise TooManyPendingInstalls("too many installs are pending; try again in a few minutes")
        return str(super().issue(*args, **kwargs))


def oauth_settings(settings: Settings, engine: Engine, store: SQLAlchemyInstallationStore) -> OAuthSettings:
    state_store = PurgingOAuthStateStore(expiration_seconds=STATE_LIFETIME_SECONDS, engine=engine)
    _create_quietly(state_store.metadata.create_all, engine)
    assert settings.slack_client_secret is not None
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        installation_store=store,
        state_store=state_store,
        install_path="/slack/install",
        # Straight to Slack's consent page (a 302), not Bolt's page with an "Add to Slack" button:
        # the Marketplace's install link lands on it (bolt-python#183, install_page_rendering_enabled).
        install_page_rendering_enabled=False,
        redirect_uri_path="/slack/oauth_redirect",
        callback_options=CallbackOptions(success=_succeeded, failure=_failed),
    )


def _succeeded(args: SuccessArgs) -> BoltResponse:
    return args.default.success(args)


def _failed(args: FailureArgs) -> BoltResponse:
    if isinstance(args.error, InstallNotAllowed):
        return BoltResponse(
            status=403,
            body="<html><body><p>This workspace is not allowed to install the billing app. "
            "Please contact the vendor's billing team.</p></body></html>",
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
    return args.default.failure(args)


def _create_quietly(create: Any, *args: Any) -> None:
    # Two processes starting together may both try CREATE TABLE; the loser finds them there.
    try:
        create(*args)
    except Exception:
        create(*args)


class StoreAuthorize(Authorize):
    """Bot token for a workspace from the installation store, without an ``auth.test`` call
    (Bolt's default makes one, a Web API call before the ack).

    A workspace's answer is kept for ``cache_seconds``: the store lookup was a database round trip
    on every request. An uninstall forgets it at once here (``forget``); on other processes the
    revoked token is used at most that much longer, and Slack refuses it anyway.
    """

    def __init__(
        self,
        store: AllowListedInstallationStore,
        *,
        cache_seconds: float = AUTHORIZE_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._store = store
        self._cache: TtlCache[tuple[str | None, str | None], AuthorizeResult | None] = TtlCache(
            cache_seconds, monotonic=monotonic
        )

    def forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop the cached answers of a workspace (or of a whole Grid organization without a team)."""
        self._cache.discard_where(lambda k: k[0] == enterprise_id and (team_id is None or k[1] == team_id))

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
        # Only an installation is kept: a workspace that installs now is served at once.
        return self._cache.get_or_load(
            (enterprise_id, team_id), lambda: self._lookup(enterprise_id, team_id), keep=lambda r: r is not None
        )

    def _lookup(self, enterprise_id: str | None, team_id: str | None) -> AuthorizeResult | None:
        bot = find_installed_bot(self._store, enterprise_id, team_id)
        if bot is not None and not self._store.allows(bot.team_id, bot.enterprise_id):
            logger.info("installation of team %s is no longer allowed", team_id)
            bot = None
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
