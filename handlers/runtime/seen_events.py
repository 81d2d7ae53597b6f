"""Events API deliveries already taken in, so Slack's retries are not processed twice.

Slack retries an event it did not see acknowledged within 3 s (``X-Slack-Retry-Num`` 1-3: at
once, after about a minute, after about five) with the same ``event_id``. An id is claimed when
the delivery starts, so a retry that overtakes a slow first attempt is dropped too, and released
when the first attempt failed, so a retry can still do the work.

Kept in memory, bounded and with a TTL, not in the database: the only event with an effect is
``app_home_opened``, which republishes the same Home tab, so a retry that slips through after a
restart (or to another process) costs one redundant ``views.publish``, never money or a message;
and a table written on every event would put a database write in front of every ack.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_TTL_SECONDS = 60 * 60  # well past Slack's last retry (about five minutes)
DEFAULT_MAX_ENTRIES = 10_000


class SeenEvents:
    """A bounded, thread-safe set of event ids that forgets each after ``ttl`` seconds."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, event_id: str) -> bool:
        """True the first time ``event_id`` is claimed (within the TTL); False for a repeat."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return True

    def release(self, event_id: str) -> None:
        """Forget ``event_id`` (its first delivery failed, so a retry should be processed)."""
        with self._lock:
            self._seen.pop(event_id, None)

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self._ttl:
                return
            del self._seen[oldest]
