"""The outbox engine both outboxes share (``billing_core.outbox_leases``): the doubling backoff,
and the counts ``/healthz`` shows."""

from __future__ import annotations

from datetime import timedelta

from billing_core.escalations.outbox import RetryPolicy
from billing_core.outbound.delivery import BackoffPolicy
from billing_core.outbox_leases import OutboxCounts, doubling_delay


def test_the_delay_doubles_from_the_base_up_to_the_cap() -> None:
    base, cap = timedelta(seconds=30), timedelta(hours=1)
    delays = [doubling_delay(base, cap, attempts) for attempts in range(0, 10)]
    assert [d.total_seconds() for d in delays] == [30, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert doubling_delay(base, cap, 10_000) == cap  # no overflow however many attempts


def test_escalations_keep_their_schedule_and_outbound_its_jitter_below_it() -> None:
    assert [RetryPolicy().delay(n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (30, 60, 120)]
    policy = BackoffPolicy()
    for attempts in range(1, 15):
        ceiling = doubling_delay(policy.base_delay, policy.max_delay, attempts)
        assert ceiling / 2 <= policy.delay(attempts) <= ceiling


def test_pending_is_queued_and_sending() -> None:
    counts = OutboxCounts({"queued": 2, "sending": 1, "sent": 5, "failed": 3}, [9, 8, 7])
    assert (counts.pending, counts.failed) == (3, 3)
    assert OutboxCounts({}, []).pending == 0
