"""Ack now, finish later: what Bolt's lazy listeners did, without copying each request."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_bolt import BoltContext

from handlers.runtime.follow_up import Later, acked_then, put_later


def _context(later: Later) -> BoltContext:
    context = BoltContext()
    put_later(context, later)
    return context


def _call(listener: Any, context: BoltContext, **given: Any) -> None:
    defaults: dict[str, Any] = {
        "ack": lambda **_: None, "body": {}, "client": None, "context": context, "event": None,
        "view": None, "action": None, "payload": {}, "command": None,
    }  # fmt: skip
    listener(**{**defaults, **given})


def test_the_follow_up_runs_after_the_ack_with_the_same_body() -> None:
    pool = ThreadPoolExecutor(max_workers=2)
    done = threading.Event()
    seen: list[Any] = []

    def ack_first(ack: Any) -> None:
        seen.append("ack")
        ack()

    def then(body: dict[str, Any]) -> None:
        seen.append(body["text"])
        done.set()

    _call(acked_then(ack_first, then), _context(Later(lambda: pool)), body={"text": "balance"})
    assert done.wait(5)
    assert seen == ["ack", "balance"]


def test_the_follow_up_still_runs_when_the_ack_failed() -> None:
    pool = ThreadPoolExecutor(max_workers=2)
    done = threading.Event()

    def broken_ack() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        _call(acked_then(broken_ack, lambda: done.set()), _context(Later(lambda: pool)))
    assert done.wait(5)


def test_a_failing_follow_up_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    pool = ThreadPoolExecutor(max_workers=1)

    def broken() -> None:
        raise RuntimeError("the database went away")

    with caplog.at_level(logging.ERROR, logger="handlers.runtime.follow_up"):
        _call(acked_then(lambda: None, broken), _context(Later(lambda: pool)))
        pool.shutdown(wait=True)
    assert any("follow-up broken failed" in r.getMessage() for r in caplog.records)


def test_a_listener_asking_for_something_bolt_cannot_give_is_refused_at_registration() -> None:
    def wants_too_much(ack: Any, database: Any) -> None: ...

    with pytest.raises(TypeError, match="database"):
        acked_then(wants_too_much)


def test_an_ack_that_answered_completely_starts_no_follow_up() -> None:
    from handlers.runtime.follow_up import nothing_left_to_do

    pool = ThreadPoolExecutor(max_workers=1)
    ran: list[str] = []
    context = _context(Later(lambda: pool))

    def answered(context: Any) -> None:
        nothing_left_to_do(context)

    _call(acked_then(answered, lambda: ran.append("follow-up")), context)
    pool.shutdown(wait=True)
    assert ran == []
