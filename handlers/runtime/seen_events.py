"""Events API deliveries already taken in, so Slack's retries are not processed twice.

Slack retries an event it did not see acknowledged within 3 s (``X-Slack-Retry-Num`` 1-3: at
once, after about a minute, after about five) with the same ``event_id``. An id is claimed when
the delivery starts, so a retry that overtakes a slow first attempt is dropped too, and released
when the first attempt failed, so a retry can still do the work.

Kept in memory, bounded and with a TTL, as a first filter on the event loop; with several
processes behind a load balancer a retry may reach another process, so ``claim_shared`` (called
from the request's thread, never the event loop) also claims the id where every process sees it
(the database, through the ``SharedClaims`` the composition root hands in).

The database claim is cheap for a first delivery and exact for a retry. Slack sends an event once,
and again (``X-Slack-Retry-Num``) only when the first delivery failed or was not acknowledged
within 3 seconds. So a first delivery has nothing to race with: its mark is only *noted* (queued
and written with others in one conflict-free insert within ``billing_core.marks.FLUSH_SECONDS``, 0.1 s, off
the request's path). A retry is *claimed* synchronously (insert, or find the mark): it comes at the
earliest 3 s after its first delivery was sent, when that delivery's mark is long written on every
replica's database, so a retry reaching another replica finds it and is dropped; after a failed
first delivery the mark was released, and the retry does the work. What the guarantee assumes: the
noted mark is written within Slack's 3 seconds (a database unreachable for longer fails the
request's own reads too, and an error releases the mark).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

DEFAULT_TTL_SECONDS = 60 * 60  # well past Slack's last retry (about five minutes)
DEFAULT_MAX_ENTRIES = 10_000


SHARED_KIND = "slack-event"


class SharedClaims(Protocol):
    """Claims every process sees (``billing_core.marks.OnceMarks`` is one)."""

    def claim(self, kind: str, key: str) -> bool: ...

    def note(self, kind: str, key: str) -> None: ...

    def release(self, kind: str, key: str) -> None: ...


class SeenEvents:
    """A bounded, thread-safe set of event ids that forgets each after ``ttl`` seconds."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedClaims | None = None,
    ) -> None:
        self._shared = shared
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

    def claim_shared(self, event_id: str, *, retry: bool = True) -> bool:
        """True unless another process took this event in first (blocking: not on the event loop).
        A first delivery (``retry=False``: no ``X-Slack-Retry-Num``) is only noted (see above)."""
        if self._shared is None:
            return True
        if not retry:
            self._shared.note(SHARED_KIND, event_id)
            return True
        return self._shared.claim(SHARED_KIND, event_id)

    def release(self, event_id: str) -> None:
        """Forget ``event_id`` (its first delivery failed, so a retry should be processed)."""
        with self._lock:
            self._seen.pop(event_id, None)
        if self._shared is not None:
            self._shared.release(SHARED_KIND, event_id)

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self._ttl:
                return
            del self._seen[oldest]
