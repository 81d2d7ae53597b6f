"""What chat asked a person last, shared by every process: the answer may reach another replica."""

from __future__ import annotations

from datetime import timedelta

from billing_core.chat_questions import ChatQuestions
from billing_core.clock import FixedClock
from billing_core.db.database import Database


def test_a_question_asked_on_one_replica_is_read_on_another(db: Database, clock: FixedClock) -> None:
    other_db = Database(str(db.engine.url.render_as_string(False)))
    first, second = ChatQuestions(db, clock), ChatQuestions(other_db, clock)
    first.ask("T1", "U1", "pay_invoice|choices|INV-1|INV-2")
    assert second.last("T1", "U1") == "pay_invoice|choices|INV-1|INV-2"
    assert second.last("T1", "U2") is None and second.last("T2", "U1") is None
    second.ask("T1", "U1", "already_paid|confirm|INV-2")  # the next question replaces the last
    assert first.last("T1", "U1") == "already_paid|confirm|INV-2"
    first.forget("T1", "U1")
    assert second.last("T1", "U1") is None
    other_db.dispose()


def test_an_answer_after_half_an_hour_is_no_longer_an_answer(db: Database, clock: FixedClock) -> None:
    questions = ChatQuestions(db, clock)
    questions.ask("T1", "U1", "switch|choices|acme|beta")
    clock.set(clock.now() + timedelta(minutes=29))
    assert questions.last("T1", "U1") == "switch|choices|acme|beta"
    clock.set(clock.now() + timedelta(minutes=2))
    assert questions.last("T1", "U1") is None


def test_a_long_question_is_kept_to_the_columns_length(db: Database, clock: FixedClock) -> None:
    questions = ChatQuestions(db, clock)
    questions.ask("T" * 100, "U" * 100, "x" * 1000)
    assert questions.last("T" * 100, "U" * 100) == "x" * 255
