"""The ack deadline: either the ack's answer is the HTTP response, or Slack gets an empty one in time."""

from __future__ import annotations

from handlers.runtime.ack_deadline import AckDeadline, current, reset, start


def test_an_answer_claimed_in_time_is_the_response_and_the_deadline_then_does_nothing() -> None:
    deadline = AckDeadline()
    started: list[str] = []
    deadline.on_expire(lambda: started.append("answer later"))
    assert deadline.claim()
    assert not deadline.expire()
    assert started == []


def test_a_passed_deadline_starts_the_later_answer_once_and_refuses_the_late_ack() -> None:
    deadline = AckDeadline()
    started: list[str] = []
    deadline.on_expire(lambda: started.append("answer later"))
    assert deadline.expire()
    assert deadline.expire()  # asking again changes nothing
    assert not deadline.claim()
    assert started == ["answer later"]


def test_work_registered_after_the_deadline_passed_starts_at_once() -> None:
    deadline = AckDeadline()
    deadline.expire()
    started: list[str] = []
    deadline.on_expire(lambda: started.append("answer later"))
    assert started == ["answer later"]


def test_a_failing_action_does_not_stop_the_others_or_the_empty_ack() -> None:
    deadline = AckDeadline()
    started: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    deadline.on_expire(broken)
    deadline.on_expire(lambda: started.append("answer later"))
    assert deadline.expire()
    assert started == ["answer later"]


def test_only_the_request_being_handled_sees_its_deadline() -> None:
    assert current() is None
    deadline, token = start()
    try:
        assert current() is deadline
    finally:
        reset(token)
    assert current() is None
