"""The Web API client for each Slack workspace the bot is installed in.

With one workspace (``SLACK_BOT_TOKEN``) every call goes through that token. Distributed by OAuth,
each workspace (and each Enterprise Grid organization installed org-wide) has its own bot token in
the installation store: a message about a person must go through the installation of *their*
workspace, the support channel through ``SUPPORT_SLACK_TEAM``'s. Tokens are cached briefly, so an
uninstalled workspace stops receiving anything within ``CACHE_SECONDS`` on every process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, InstallationStore

from billing_core.identity.principal import parse_principal
from bot.settings import Settings
from bot.slack.client import make_web_client
from bot.slack.installation_store import EncryptedInstallationStore
from handlers.runtime.ttl_cache import TtlCache

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Workspace:
    """A Slack workspace, inside an Enterprise Grid organization or not."""

    team_id: str | None
    enterprise_id: str | None = None

    @property
    def key(self) -> str:
        """A short text naming it (``T123`` or ``E456:T123``), stored with what was sent there."""
        return ":".join(part for part in (self.enterprise_id, self.team_id) if part)

    @classmethod
    def from_key(cls, key: str) -> Workspace:
        enterprise, _, team = key.rpartition(":")
        return cls(team_id=team or None, enterprise_id=enterprise or None)


ClientFactory = Callable[[str], WebClient]


def slack_workspaces(
    settings: Settings, *, store: InstallationStore | None, default_client: WebClient | None
) -> SlackWorkspaces:
    """The workspaces of the running bot: the installation store with OAuth, else the one token's."""
    return SlackWorkspaces(
        default_client=None if settings.oauth_enabled else default_client,
        store=store if settings.oauth_enabled else None,
        client_for_token=lambda token: make_web_client(settings, token=token),
        support_team=settings.support_slack_team,
    )


def find_installed_bot(store: InstallationStore, enterprise_id: str | None, team_id: str | None) -> Bot | None:
    """The bot installed in a workspace: its own installation, else its Grid organization's
    org-wide one (stored without a team)."""
    bot = store.find_bot(enterprise_id=enterprise_id, team_id=team_id) if team_id else None
    if bot is None and enterprise_id:
        bot = store.find_bot(enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True)
    return bot


class SlackWorkspaces:
    """``client_for(workspace)``: that workspace's client, or ``None`` where the bot is not installed."""

    def __init__(
        self,
        *,
        default_client: WebClient | None = None,
        store: InstallationStore | None = None,
        client_for_token: ClientFactory | None = None,
        support_team: str | None = None,
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if default_client is None and (store is None or client_for_token is None):
            raise ValueError("either a default client or an installation store is needed")
        self._default = default_client
        self._store = store
        self._client_for_token = client_for_token
        self._support_team = support_team
        self._lock = threading.Lock()
        self._cache: TtlCache[Workspace, WebClient | None] = TtlCache(cache_seconds, monotonic=monotonic)
        self._clients: dict[str, WebClient] = {}

    @property
    def single(self) -> bool:
        """True with one workspace and one token (no installation store)."""
        return self._store is None

    def client_for(self, workspace: Workspace) -> WebClient | None:
        """The client of ``workspace``'s installation (its own, else its organization's)."""
        if self._store is None:
            return self._default
        return self._cache.get_or_load(workspace, lambda: self._lookup(workspace))

    def prefetch(self, workspaces: Iterable[Workspace]) -> None:
        """Read the installations of many workspaces (outside Grid organizations) at once into the
        cache, as ``client_for`` would one by one (a sweep's next workspaces)."""
        if not isinstance(self._store, EncryptedInstallationStore):
            return
        teams = [w.team_id for w in workspaces if w.team_id and not w.enterprise_id and self._cache.get(w) is None]
        if not teams:
            return
        now = self._cache.now()
        for team, bot in self._store.find_bots(teams).items():
            self._cache.put(Workspace(team), self._client_of(Workspace(team), bot), now)

    def client_for_principal(self, principal: str) -> WebClient | None:
        """The client of the workspace a Slack principal belongs to (``None`` for others)."""
        slack = parse_principal(principal)
        if slack is None:
            return None
        return self.client_for(Workspace(slack.team_id, slack.enterprise_id))

    def support_client(self) -> WebClient | None:
        """The client of the workspace holding the support channel (``SUPPORT_SLACK_TEAM``)."""
        if self._store is None:
            return self._default
        if not self._support_team:
            return None
        return self.client_for(Workspace.from_key(self._support_team))

    def forget(self, workspace: Workspace) -> None:
        """Drop the cached client of a workspace that uninstalled (this process at once)."""
        self._cache.discard_where(
            lambda w: (
                w.team_id == workspace.team_id
                and (workspace.enterprise_id is None or w.enterprise_id == workspace.enterprise_id)
            )
        )

    def _lookup(self, workspace: Workspace) -> WebClient | None:
        assert self._store is not None and self._client_for_token is not None
        return self._client_of(workspace, find_installed_bot(self._store, workspace.enterprise_id, workspace.team_id))

    def _client_of(self, workspace: Workspace, bot: Bot | None) -> WebClient | None:
        assert self._client_for_token is not None
        if bot is None or not bot.bot_token:
            logger.info("no Slack installation for %s", workspace.key or "an unnamed workspace")
            return None
        with self._lock:
            client = self._clients.get(bot.bot_token)
            if client is None:
                client = self._clients[bot.bot_token] = self._client_for_token(bot.bot_token)
        return client
