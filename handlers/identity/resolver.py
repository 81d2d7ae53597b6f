"""Who is clicking: the Slack user's e-mail (``users.info``, scope ``users:read.email``) as an Actor.

Looked up after the ack only, and cached per user with a time-to-live so a burst of clicks costs
one Web API call. The e-mail is matched against billing contacts by the services, not here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.views import Actor

logger = logging.getLogger(__name__)


def principal_for(team_id: str, user_id: str) -> str:
    """The opaque principal naming a Slack user: ``slack:<team>:<user>``."""
    return f"slack:{team_id}:{user_id}"


def parse_principal(principal: str) -> tuple[str, str] | None:
    """``(team_id, user_id)`` of a Slack principal, ``None`` for anything else."""
    parts = principal.split(":")
    if len(parts) != 3 or parts[0] != "slack" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class _Entry:
    actor: Actor | None
    expires_at: float


class IdentityResolver:
    """Slack user -> Actor (or ``None`` when Slack shows the app no e-mail for them)."""

    def __init__(self, *, ttl_seconds: float = 600.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def resolve(self, client: WebClient, team_id: str, user_id: str) -> Actor | None:
        """The caller as an Actor, from the cache or one ``users.info`` call."""
        key = (team_id, user_id)
        now = self._monotonic()
        with self._lock:
            entry = self._cache.get(key)
        if entry is not None and entry.expires_at > now:
            return entry.actor
        try:
            response = client.users_info(user=user_id)
        except SlackApiError as error:
            # Not cached: a transient failure must not lock someone out for the whole TTL.
            logger.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return None
        actor = _actor_from_user(response.get("user") or {}, team_id, user_id)
        with self._lock:
            self._cache[key] = _Entry(actor=actor, expires_at=now + self._ttl)
        return actor

    def cached(self, team_id: str, user_id: str) -> tuple[bool, Actor | None]:
        """``(True, actor)`` when the caller is known without a Slack call, else ``(False, None)``."""
        now = self._monotonic()
        with self._lock:
            entry = self._cache.get((team_id, user_id))
        if entry is None or entry.expires_at <= now:
            return False, None
        return True, entry.actor

    def forget(self, team_id: str, user_id: str) -> None:
        with self._lock:
            self._cache.pop((team_id, user_id), None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def _actor_from_user(user: object, team_id: str, user_id: str) -> Actor | None:
    if not isinstance(user, dict) or user.get("deleted") or user.get("is_bot"):
        return None
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    email = profile.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    name = profile.get("real_name") or user.get("real_name") or profile.get("display_name") or ""
    return Actor(email=email.strip(), principal=principal_for(team_id, user_id), display_name=str(name))
