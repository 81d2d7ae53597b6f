"""Slack's Web API limits, kept per workspace and method, so a busy sweep never argues with Slack.

Slack's limits apply "per API method per workspace/team per app", in tiers: Tier 2 20+, Tier 3
50+, Tier 4 100+ calls a minute (docs.slack.dev/apis/web-api/rate-limits); ``chat.postMessage``
has its own limit of about one message a second per channel (paced by the sender) with a
workspace-wide allowance on top. After a 429, Slack's ``Retry-After`` says how long that method
must rest in that workspace.

``acquire`` never sleeps: it raises ``ChatRateLimited`` with the wait, and the sweep sets that
person aside and goes on with others (other workspaces, or other methods), so no call is sent
inside a ``Retry-After`` window and no workspace goes over its tier. The budgets are this
process's; each of several processes keeps its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from billing_core.errors import ChatRateLimited

# Calls a minute, by the WebClient method name, from each method's published tier.
TIER_PER_MINUTE: Mapping[str, int] = {
    "users_lookupByEmail": 50,  # Tier 3
    "conversations_open": 50,  # Tier 3
    "chat_update": 50,  # Tier 3
    "users_info": 100,  # Tier 4
}


class RateLimits:
    """Token buckets per (workspace, method), full at start (Slack allows short bursts), and the
    ``Retry-After`` windows Slack asked for."""

    def __init__(
        self, *, per_minute: Mapping[str, int] = TIER_PER_MINUTE, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._per_minute = per_minute
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (tokens, at)
        self._resting: dict[tuple[str, str], float] = {}  # -> until

    def acquire(self, workspace: str, method: str) -> None:
        """Take one call of ``method`` in ``workspace``, or raise ``ChatRateLimited`` with the wait."""
        key = (workspace, method)
        now = self._monotonic()
        with self._lock:
            until = self._resting.get(key)
            if until is not None:
                if now < until:
                    raise ChatRateLimited(until - now)
                del self._resting[key]
            budget = self._per_minute.get(method)
            if budget is None:
                return
            tokens, at = self._buckets.get(key, (float(budget), now))
            tokens = min(float(budget), tokens + (now - at) * budget / 60.0)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise ChatRateLimited((1.0 - tokens) * 60.0 / budget)
            self._buckets[key] = (tokens - 1.0, now)

    def rest(self, workspace: str, method: str, retry_after: float) -> None:
        """Slack answered 429: no call of ``method`` in ``workspace`` for ``retry_after`` seconds."""
        until = self._monotonic() + retry_after
        with self._lock:
            key = (workspace, method)
            self._resting[key] = max(until, self._resting.get(key, 0.0))
