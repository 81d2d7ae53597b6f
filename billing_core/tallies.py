"""Counts and levels the domain keeps (escalation e-mails, outbound deliveries, failed proofs of
e-mail ownership), in memory and without any metrics library: the Prometheus adapter
(``billing_core.adapters.metrics``) serves every one of them, by the name given here.

The API is the part of the Prometheus client the domain used: ``TALLY.labels("sent").inc()``,
``LEVEL.set(3)``. Everything counted is a whole number of events or rows, so counts are integers;
when a count started is kept in nanoseconds since the epoch.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Count:
    value: int = 0
    created_ns: int = field(default_factory=time.time_ns)


class _Child:
    __slots__ = ("_count", "_lock")

    def __init__(self, count: _Count, lock: threading.Lock) -> None:
        self._count = count
        self._lock = lock

    def inc(self, amount: int = 1) -> None:
        with self._lock:
            self._count.value += amount

    def get(self) -> int:
        return self._count.value


class Tally:
    """A counter by labels (Prometheus: a counter named ``<name>_total``)."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, ...], _Count] = {}
        _ALL[name] = self

    def labels(self, *values: str) -> _Child:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
        key = tuple(str(v) for v in values)
        with self._lock:
            count = self._counts.get(key)
            if count is None:
                count = self._counts[key] = _Count()
        return _Child(count, self._lock)

    def samples(self) -> list[tuple[tuple[str, ...], int, int]]:
        """``(label values, value, created in ns since the epoch)`` for every label set counted so far."""
        with self._lock:
            return [(key, count.value, count.created_ns) for key, count in self._counts.items()]


class Level:
    """A value that goes up and down (Prometheus: a gauge)."""

    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        self._value = 0
        _ALL[name] = self

    def set(self, value: int) -> None:
        self._value = value

    def get(self) -> int:
        return self._value


_ALL: dict[str, Tally | Level] = {}


def all_tallies() -> list[Tally | Level]:
    """Every tally and level declared so far, in the order they were declared."""
    return list(_ALL.values())
