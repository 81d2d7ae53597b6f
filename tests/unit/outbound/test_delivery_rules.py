"""The outbound outbox's rules on an in-memory channel (``tests/support/fakes.py``): an event is
delivered once, a failed attempt is retried later under the same id, and an event is given up
after ``give_up_after`` or at once on a permanent failure. Against a real HTTP receiver:
``tests/integration/outbound``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord
from billing_core.outbound.delivery import Attempt, OutboundDelivery
from billing_core.outbound.events import OutboundSink, enable, record_event
from tests.support.fakes import FakeChannel, InlineBackground


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def delivery(db: Database, clock: FixedClock, channel: FakeChannel) -> Iterator[OutboundDelivery]:
    enable(db, OutboundSink(frozenset({channel.channel})))
    outbox = OutboundDelivery(db=db, clock=clock, background=InlineBackground(), channels=[channel])
    yield outbox
    outbox.stop()


def queue(db: Database, clock: FixedClock) -> str:
    with db.transaction() as session:
        event_id = record_event(
            session, channel="webhook", type="payment.succeeded", subject="payment:1", data={"n": 1}, now=clock.now()
        )
    assert event_id is not None
    return event_id


def status(db: Database, event_id: str) -> tuple[str, int]:
    with db.read() as session:
        record = session.get(OutboundEventRecord, event_id)
        assert record is not None
        return record.status, record.attempts


def test_an_event_is_delivered_once(
    db: Database, clock: FixedClock, delivery: OutboundDelivery, channel: FakeChannel
) -> None:
    event_id = queue(db, clock)

    assert delivery.deliver_due().delivered == 1
    assert delivery.deliver_due().delivered == 0
    assert [a[0] for a in channel.attempts] == [event_id]
    assert status(db, event_id) == ("delivered", 1)


def test_a_failed_attempt_is_retried_later_under_the_same_id(
    db: Database, clock: FixedClock, delivery: OutboundDelivery, channel: FakeChannel
) -> None:
    channel.answer = lambda event_id, n: Attempt(ok=n > 1, status=503 if n == 1 else 200)
    event_id = queue(db, clock)

    assert delivery.deliver_due().retried == 1
    assert delivery.deliver_due().delivered == 0  # not due yet
    clock.set(clock.now() + timedelta(seconds=10))  # the first backoff is 5-10 s

    assert delivery.deliver_due().delivered == 1
    assert [a[0] for a in channel.attempts] == [event_id, event_id]


def test_an_event_is_given_up_after_give_up_after_and_counted_as_failed(
    db: Database, clock: FixedClock, delivery: OutboundDelivery, channel: FakeChannel
) -> None:
    channel.answer = lambda event_id, n: Attempt(ok=False, status=500, error="answered HTTP 500")
    event_id = queue(db, clock)
    delivery.deliver_due()

    clock.set(clock.now() + timedelta(hours=72))
    assert delivery.deliver_due().failed == 1

    assert status(db, event_id) == ("failed", 2)
    assert (delivery.health()["failed"], delivery.health()["failed_events"]) == (1, [event_id])


def test_a_permanent_failure_is_not_retried(
    db: Database, clock: FixedClock, delivery: OutboundDelivery, channel: FakeChannel
) -> None:
    channel.answer = lambda event_id, n: Attempt(ok=False, error="cannot be built", permanent=True)
    event_id = queue(db, clock)

    assert delivery.deliver_due().failed == 1
    assert status(db, event_id) == ("failed", 1)
