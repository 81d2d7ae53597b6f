"""Who is clicking: the Slack user's e-mail (``users.info``, scope ``users:read.email``) as an Actor.

Looked up after the ack only, and cached per user with a time-to-live so a burst of clicks costs
one Web API call. The e-mail is matched against billing contacts by the services, not here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.identity.principal import principal_for
from billing_core.views import Actor
from handlers.runtime.ttl_cache import TtlCache

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Entry:
    actor: Actor | None
    expires_at: float


class IdentityResolver:
    """Slack user -> Actor (or ``None`` when Slack shows the app no e-mail for them)."""

    def __init__(
        self,
        *,
        ttl_seconds: float = 600.0,
        monotonic: Callable[[], float] = time.monotonic,
        on_resolved: Callable[[Actor], None] | None = None,
    ) -> None:
        """``on_resolved`` hears of each person looked up in Slack (once per ``ttl_seconds`` at most):
        the composition root records where they use the bot, for reminders."""
        self._on_resolved = on_resolved
        self._cache: TtlCache[tuple[str, str], Actor | None] = TtlCache(ttl_seconds, monotonic=monotonic)

    def resolve(self, client: WebClient, team_id: str, user_id: str, enterprise_id: str | None = None) -> Actor | None:
        """The caller as an Actor, from the cache or one ``users.info`` call.

        ``team_id`` is the workspace the request came through. A user whose own workspace is
        another one (Slack Connect) or whom Slack marks external or a stranger is an external
        Actor, keyed by their own workspace: they must prove their e-mail whatever the mode.
        """
        key = (team_id, user_id)
        now = self._cache.now()
        hit = self._cache.get(key, now)
        if hit is not None:
            return hit.value
        try:
            response = client.users_info(user=user_id)
        except SlackApiError as error:
            # Not cached: a transient failure must not lock someone out for the whole TTL.
            logger.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return None
        actor = actor_from_slack_user(response.get("user") or {}, team_id, user_id, enterprise_id)
        self._cache.put(key, actor, now)
        if actor is not None and self._on_resolved is not None:
            try:
                self._on_resolved(actor)
            except Exception:  # bookkeeping: never the reason a request fails
                logger.exception("could not record where %s uses the bot", actor.principal)
        return actor

    def cached(self, team_id: str, user_id: str) -> tuple[bool, Actor | None]:
        """``(True, actor)`` when the caller is known without a Slack call, else ``(False, None)``."""
        hit = self._cache.get((team_id, user_id))
        if hit is None:
            return False, None
        return True, hit.value

    def forget(self, team_id: str, user_id: str) -> None:
        self._cache.pop((team_id, user_id))

    def clear(self) -> None:
        self._cache.clear()


def actor_from_slack_user(user: object, team_id: str, user_id: str, enterprise_id: str | None = None) -> Actor | None:
    if not isinstance(user, dict) or user.get("deleted") or user.get("is_bot"):
        return None
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    email = profile.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    name = profile.get("real_name") or user.get("real_name") or profile.get("display_name") or ""
    own_team = user.get("team_id") if isinstance(user.get("team_id"), str) and user.get("team_id") else team_id
    grid = user.get("enterprise_user") if isinstance(user.get("enterprise_user"), dict) else {}
    assert isinstance(grid, dict)
    own_enterprise = grid.get("enterprise_id") if isinstance(grid.get("enterprise_id"), str) else None
    same_organization = bool(own_enterprise) and own_enterprise == enterprise_id
    external = bool(user.get("is_stranger")) or (
        own_enterprise != enterprise_id
        if own_enterprise and enterprise_id
        else not same_organization and own_team != team_id
    )
    if external:  # keyed by where they belong, not by the workspace they reached us through
        team, organization = str(own_team), own_enterprise
    else:
        team, organization = team_id, enterprise_id
    return Actor(
        email=email.strip(),
        principal=principal_for(team, user_id, organization),
        display_name=str(name),
        external=external,
    )
