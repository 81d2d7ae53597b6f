"""Marks every process shares: a Slack retry that reaches another process is still seen."""

from __future__ import annotations

from datetime import timedelta

from billing_core.adapters.threads import ThreadBackground
from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.marks import OnceMarks
from tests.support.bot_harness import wait_until


def test_the_first_claim_wins_and_a_second_process_sees_the_mark(db: Database, clock: FixedClock) -> None:
    first, second = OnceMarks(db, clock), OnceMarks(Database(str(db.engine.url.render_as_string(False))), clock)
    assert first.claim("event", "Ev1")
    assert not second.claim("event", "Ev1")
    assert second.seen("event", "Ev1")
    assert second.claim("event", "Ev2")
    second.db.dispose()


def test_a_released_mark_can_be_claimed_again(db: Database, clock: FixedClock) -> None:
    marks = OnceMarks(db, clock)
    assert marks.claim("event", "Ev1")
    marks.release("event", "Ev1")
    assert marks.claim("event", "Ev1")


def test_marks_expire_and_are_purged(db: Database, clock: FixedClock) -> None:
    marks = OnceMarks(db, clock, ttl=timedelta(minutes=10))
    assert marks.claim("outcome", "V1")
    clock.set(clock.now() + timedelta(minutes=11))
    assert not marks.seen("outcome", "V1")
    assert marks.claim("outcome", "V1")  # an expired mark is taken over
    clock.set(clock.now() + timedelta(minutes=11))
    assert marks.purge() == 1


def test_kinds_do_not_collide(db: Database, clock: FixedClock) -> None:
    marks = OnceMarks(db, clock)
    assert marks.claim("event", "same")
    assert marks.claim("outcome", "same")


def test_a_noted_first_delivery_is_written_in_the_background_and_a_retry_elsewhere_finds_it(
    db: Database, clock: FixedClock
) -> None:
    first = OnceMarks(db, clock, background=ThreadBackground())
    second = OnceMarks(Database(str(db.engine.url.render_as_string(False))), clock)
    for n in range(5):
        first.note("slack-event", f"EvFirst{n}")
    wait_until(lambda: second.seen("slack-event", "EvFirst4"), 5, "the noted marks written")
    assert all(not second.claim("slack-event", f"EvFirst{n}") for n in range(5))  # the retries are dropped
    assert second.claim("slack-event", "EvOther")
    first.stop()
    second.db.dispose()


def test_a_noted_mark_released_before_it_was_written_lets_the_retry_do_the_work(
    db: Database, clock: FixedClock
) -> None:
    marks = OnceMarks(db, clock, background=ThreadBackground())
    marks.note("slack-event", "EvFailed")
    marks.release("slack-event", "EvFailed")  # the first delivery failed
    marks.flush()
    assert marks.claim("slack-event", "EvFailed")
    marks.stop()
