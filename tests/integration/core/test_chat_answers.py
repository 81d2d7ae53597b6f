"""Which DM messages chat answered, shared by every process: an edit is answered only when its
message never was, and then once, whichever replica sees it."""

from __future__ import annotations

from datetime import timedelta

from billing_core.chat_answers import ChatAnswers, written_at
from billing_core.clock import FixedClock
from billing_core.db.database import Database


def ts_at(clock: FixedClock, ago: timedelta = timedelta()) -> str:
    return f"{int((clock.now() - ago).timestamp())}.000100"


def test_a_message_is_claimed_once_across_replicas_and_its_edit_finds_it_answered(
    db: Database, clock: FixedClock
) -> None:
    other_db = Database(str(db.engine.url.render_as_string(False)))
    first, second = ChatAnswers(db, clock), ChatAnswers(other_db, clock)
    ts = ts_at(clock, timedelta(minutes=1))
    assert first.claim("T1", "D1", ts)
    assert not second.claim("T1", "D1", ts)  # Slack's retry on another replica
    assert not second.claim("T1", "D1", ts, edit=True)  # the message's edit: it was answered
    assert second.claim("T1", "D2", ts) and second.claim("T2", "D1", ts)  # another DM, another workspace
    other_db.dispose()


def test_an_edit_of_a_message_that_got_no_reply_is_claimed_once(db: Database, clock: FixedClock) -> None:
    answers = ChatAnswers(db, clock)
    ts = ts_at(clock, timedelta(hours=3))
    assert answers.claim("T1", "D1", ts, edit=True)
    assert not answers.claim("T1", "D1", ts, edit=True)  # a second edit, or the same one again
    assert not answers.claim("T1", "D1", ts)  # the original delivered late


def test_an_edit_of_a_message_older_than_the_keep_window_is_left_alone(db: Database, clock: FixedClock) -> None:
    answers = ChatAnswers(db, clock, keep=timedelta(days=30))
    assert not answers.claim("T1", "D1", ts_at(clock, timedelta(days=31)), edit=True)
    assert not answers.claim("T1", "D1", "not a ts", edit=True)
    assert answers.claim("T1", "D1", ts_at(clock, timedelta(days=29)), edit=True)


def test_rows_older_than_the_keep_window_are_purged(db: Database, clock: FixedClock) -> None:
    answers = ChatAnswers(db, clock, keep=timedelta(days=30))
    answers.claim("T1", "D1", ts_at(clock))
    clock.set(clock.now() + timedelta(days=29))
    assert answers.purge() == 0
    clock.set(clock.now() + timedelta(days=2))
    assert answers.purge() == 1


def test_a_slack_ts_reads_as_the_time_it_was_written() -> None:
    assert written_at("1700000000.000100") is not None
    assert written_at("1700000000") is not None
    assert written_at("") is None and written_at("17e9.1") is None and written_at("9" * 20) is None
