"""``TtlCache``: an answer is kept ``ttl`` seconds from the moment its lookup began."""

from __future__ import annotations

import pytest

from handlers.runtime.ttl_cache import Hit, TtlCache


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_fresh_for_ttl_seconds_from_when_its_lookup_began() -> None:
    ticks = Ticks()
    cache: TtlCache[str, int | None] = TtlCache(10.0, monotonic=ticks)

    def slow() -> int:
        ticks.now += 4  # the lookup took 4 s
        return 7

    assert cache.get_or_load("a", slow) == 7
    ticks.now = 109.9
    assert cache.get("a") == Hit(7)
    ticks.now = 110.0
    assert cache.get("a") is None and "a" in cache  # stale, still held until replaced


def test_none_is_an_answer_unless_keep_says_otherwise() -> None:
    cache: TtlCache[str, int | None] = TtlCache(10.0, monotonic=Ticks())
    calls: list[str] = []

    def nothing() -> int | None:
        calls.append("x")
        return None

    assert cache.get_or_load("kept", nothing) is None
    assert cache.get_or_load("kept", nothing) is None
    assert cache.get_or_load("skipped", nothing, keep=lambda v: v is not None) is None
    assert cache.get_or_load("skipped", nothing, keep=lambda v: v is not None) is None
    assert len(calls) == 3


def test_a_failed_lookup_is_not_kept() -> None:
    cache: TtlCache[str, int] = TtlCache(10.0, monotonic=Ticks())

    def broken() -> int:
        raise ConnectionError

    with pytest.raises(ConnectionError):
        cache.get_or_load("a", broken)
    assert "a" not in cache


def test_entries_are_dropped_one_by_one_by_key_or_all_at_once() -> None:
    cache: TtlCache[tuple[str, str], int] = TtlCache(10.0, monotonic=Ticks())
    for key in [("E1", "T1"), ("E1", "T2"), ("E2", "T1")]:
        cache.put(key, 1, at=100.0)
    cache.discard_where(lambda k: k[0] == "E1")
    assert [k for k in [("E1", "T1"), ("E1", "T2"), ("E2", "T1")] if k in cache] == [("E2", "T1")]
    cache.pop(("E2", "T1"))
    cache.pop(("E2", "T1"))
    assert ("E2", "T1") not in cache
    cache.put(("x", "y"), 2, at=100.0)
    cache.clear()
    assert cache.get(("x", "y")) is None


def test_a_bounded_cache_forgets_the_longest_kept_entry_to_take_a_new_one() -> None:
    cache: TtlCache[str, int] = TtlCache(60, max_entries=2)
    cache.put("a", 1, cache.now())
    cache.put("b", 2, cache.now())
    cache.put("a", 3, cache.now())  # kept again: now the newest
    cache.put("c", 4, cache.now())
    assert "b" not in cache
    assert [hit.value for hit in (cache.get("a"), cache.get("c")) if hit is not None] == [3, 4]
