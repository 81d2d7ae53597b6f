"""Slack's published rate-limit tiers, enforced per (workspace, method) like Slack, and a record
of how a client kept them: for the Web API stand-ins (``devtools.loopback.slack_api`` and the
benchmark's ``bench.standin``).

Past a method's tier in a workspace (more calls than the tier allows in any ``window`` seconds),
or past one ``chat.postMessage`` a second in one channel, the call is refused with 429 and a
``Retry-After``; until that window is over, every call of that method in that workspace is
refused again and counted as *sent inside a Retry-After window* (the thing a client must never
do). Tiers from docs.slack.dev/apis/web-api/rate-limits and each method's page.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Any

PUBLISHED_TIERS: Mapping[str, int] = {
    "users.lookupByEmail": 50,  # Tier 3
    "conversations.open": 50,  # Tier 3
    "chat.update": 50,  # Tier 3
    "users.info": 100,  # Tier 4
}


class SlackTiers:
    """Decide each call (``check``) and report how the calls went (``report``). Thread-safe."""

    def __init__(
        self,
        per_minute: Mapping[str, int] = PUBLISHED_TIERS,
        *,
        window: float = 60.0,
        per_channel_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = dict(per_minute)
        self._window = window
        self._interval = per_channel_interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._accepted: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)
        self._blocked: dict[tuple[str, str], float] = {}
        self._last_post: dict[tuple[str, str], float] = {}
        self._refuse: dict[tuple[str, str], int] = {}
        self.inside_retry_after = 0
        self.answered_429 = 0

    def refuse_next(self, workspace: str, method: str, *, retry_after: int) -> None:
        """Answer the next call of ``method`` in ``workspace`` with 429 and this ``Retry-After``
        (Slack may ask a client to slow down below the published tier)."""
        with self._lock:
            self._refuse[(workspace, method)] = retry_after

    def check(self, workspace: str, method: str, channel: str | None = None) -> int | None:
        """``None`` when Slack would take the call now, else the ``Retry-After`` (whole seconds)."""
        key = (workspace, method)
        now = self._monotonic()
        with self._lock:
            self._arrivals[key].append(now)
            until = self._blocked.get(key)
            if until is not None and now < until:
                self.inside_retry_after += 1
                self.answered_429 += 1
                return max(1, math.ceil(until - now))
            retry: float | None = self._refuse.pop(key, None)
            tier = self.per_minute.get(method)
            if retry is None and tier is not None:
                accepted = self._accepted[key]
                while accepted and accepted[0] <= now - self._window:
                    accepted.popleft()
                if len(accepted) >= tier:
                    retry = accepted[0] + self._window - now
            if retry is None and method == "chat.postMessage" and channel:
                last = self._last_post.get((workspace, channel))
                if last is not None and now - last < self._interval:
                    retry = last + self._interval - now
            if retry is not None:
                seconds = max(1, math.ceil(retry))
                self._blocked[key] = now + seconds
                self.answered_429 += 1
                return seconds
            if tier is not None:
                self._accepted[key].append(now)
            if method == "chat.postMessage" and channel:
                self._last_post[(workspace, channel)] = now
            return None

    def peaks(self) -> dict[str, dict[str, Any]]:
        """By method: the most calls one workspace sent in any ``window`` seconds, that workspace,
        and the method's tier (``None``: no published number)."""
        best: dict[str, dict[str, Any]] = {}
        with self._lock:
            arrivals = {key: list(times) for key, times in self._arrivals.items()}
        for (workspace, method), times in arrivals.items():
            peak, start = 0, 0
            for end, at in enumerate(times):
                while times[start] <= at - self._window:
                    start += 1
                peak = max(peak, end - start + 1)
            if peak > best.get(method, {}).get("peak_per_minute", -1):
                best[method] = {"peak_per_minute": peak, "workspace": workspace, "tier": self.per_minute.get(method)}
        return best

    def over_tier(self) -> list[str]:
        """The (workspace, method) pairs that got more calls in a window than their tier."""
        return sorted(
            f"{workspace} {method}"
            for method, peak in self.peaks().items()
            for workspace in [peak["workspace"]]
            if peak["tier"] is not None and peak["peak_per_minute"] > peak["tier"]
        )

    def report(self) -> dict[str, Any]:
        return {
            "calls_inside_retry_after": self.inside_retry_after,
            "answered_429": self.answered_429,
            "peaks": self.peaks(),
        }
