"""Slack's Web API limits, kept per workspace and method, so a busy sweep never argues with Slack.

Slack's limits apply "per API method per workspace/team per app", in tiers: Tier 2 20+, Tier 3
50+, Tier 4 100+ calls a minute (docs.slack.dev/apis/web-api/rate-limits); ``chat.postMessage``
has its own limit of about one message a second per channel (paced by the sender) with a
workspace-wide allowance on top. After a 429, Slack's ``Retry-After`` says how long that method
must rest in that workspace.

The budget is a sliding window: at most the tier's number of calls in any ``WINDOW`` seconds
(a minute and one second of slack for the time a request takes to arrive), so however Slack
counts its minute, no workspace ever goes over its tier (a token bucket would allow twice the
tier in a minute: a full burst, then a minute's refill).

``acquire`` never sleeps: it raises ``ChatRateLimited`` with the wait, and the sweep sets that
person aside and goes on with others (other workspaces, or other methods), so no call is sent
inside a ``Retry-After`` window and no workspace goes over its tier. The windows are this
process's; across processes, a workspace is sent to by one process at a time
(``bot.slack.workspace_leases``), which hands its rests to the next holder.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from billing_core.errors import ChatRateLimited

# Calls a minute, by the WebClient method name, from each method's published tier.
TIER_PER_MINUTE: Mapping[str, int] = {
    "users_lookupByEmail": 50,  # Tier 3
    "conversations_open": 50,  # Tier 3
    "conversations_history": 50,  # Tier 3 (read only before retrying a reminder that may have gone out)
    "chat_update": 50,  # Tier 3
    "users_info": 100,  # Tier 4
}
WINDOW = 61.0


class RateLimits:
    """Sliding windows of calls per (workspace, method), and the ``Retry-After`` rests Slack asked for."""

    def __init__(
        self,
        *,
        per_minute: Mapping[str, int] = TIER_PER_MINUTE,
        monotonic: Callable[[], float] = time.monotonic,
        window: float = WINDOW,
    ) -> None:
        self._per_minute = per_minute
        self._monotonic = monotonic
        self._window = window
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._resting: dict[tuple[str, str], float] = {}  # -> until

    @property
    def tiered(self) -> tuple[str, ...]:
        """The methods with a budget a minute."""
        return tuple(self._per_minute)

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
            calls = self._calls.get(key)
            if calls is None:
                calls = self._calls[key] = deque()
            while calls and calls[0] <= now - self._window:
                calls.popleft()
            if len(calls) >= budget:
                raise ChatRateLimited(calls[0] + self._window - now)
            calls.append(now)

    def recent(self, workspace: str) -> int:
        """The most calls of one method in ``workspace`` within the last window (handed to the
        next process to send there)."""
        now = self._monotonic()
        with self._lock:
            return max(
                (
                    sum(1 for at in self._calls.get((workspace, method), ()) if at > now - self._window)
                    for method in self._per_minute
                ),
                default=0,
            )

    def preload(self, workspace: str, method: str, calls: int, ago: float) -> None:
        """Count ``calls`` made ``ago`` seconds ago in ``workspace`` by another process as this one's."""
        budget = self._per_minute.get(method)
        if budget is None or calls <= 0:
            return
        at = self._monotonic() - ago
        with self._lock:
            window = self._calls.setdefault((workspace, method), deque())
            merged = sorted([*window, *([at] * min(calls, budget))])
            self._calls[(workspace, method)] = deque(merged)

    def rest(self, workspace: str, method: str, retry_after: float) -> None:
        """No call of ``method`` in ``workspace`` for ``retry_after`` seconds (Slack answered 429, or
        another process may have used the method's minute there)."""
        until = self._monotonic() + retry_after
        with self._lock:
            key = (workspace, method)
            self._resting[key] = max(until, self._resting.get(key, 0.0))
