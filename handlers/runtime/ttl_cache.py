"""A small thread-safe cache whose entries are fresh for ``ttl`` seconds after they were looked up.

The one way the listeners and the Slack adapters keep an answer for a while (who a Slack user is,
a workspace's client, an installation's authorization, a channel's fitness, a contact found by
e-mail). An entry's age counts from the moment its lookup began (``now()`` is read before the
lookup), so a slow answer is not kept longer than ``ttl``; a cached ``None`` is an answer too.
With ``max_entries``, putting a new key into a full cache first forgets the longest-kept entry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Hit(Generic[V]):
    """A fresh entry (``value`` may be ``None``: "not found" is kept like any other answer)."""

    value: V


class TtlCache(Generic[K, V]):
    def __init__(
        self, ttl: float, *, monotonic: Callable[[], float] = time.monotonic, max_entries: int | None = None
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._entries: dict[K, tuple[float, V]] = {}

    def now(self) -> float:
        return self._monotonic()

    def get(self, key: K, now: float | None = None) -> Hit[V] | None:
        """The entry if it is fresh at ``now`` (default: the clock now), else ``None``."""
        now = self._monotonic() if now is None else now
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or now - entry[0] >= self.ttl:
            return None
        return Hit(entry[1])

    def put(self, key: K, value: V, at: float) -> None:
        """Keep ``value`` as looked up at ``at`` (a ``now()`` read before the lookup)."""
        with self._lock:
            self._entries.pop(key, None)  # a put moves the key to the end: the newest kept
            if self.max_entries is not None:
                while len(self._entries) >= self.max_entries:
                    del self._entries[next(iter(self._entries))]
            self._entries[key] = (at, value)

    def get_or_load(self, key: K, load: Callable[[], V], *, keep: Callable[[V], bool] | None = None) -> V:
        """The fresh entry, else ``load()``'s answer, kept when ``keep`` (default: always) says so.
        An exception from ``load`` is not kept (nor caught)."""
        now = self._monotonic()
        hit = self.get(key, now)
        if hit is not None:
            return hit.value
        value = load()
        if keep is None or keep(value):
            self.put(key, value, now)
        return value

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def discard_where(self, matches: Callable[[K], bool]) -> None:
        """Drop every entry whose key ``matches``."""
        with self._lock:
            for key in [k for k in self._entries if matches(k)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` has an entry, fresh or not."""
        with self._lock:
            return key in self._entries
