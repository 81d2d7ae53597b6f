"""Several processes on one database run each scheduled job once: the scheduler lease."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.leases import JobLeases
from bot.scheduler import build_scheduler
from bot.settings import Settings


def _two_processes(db: Database, clock: FixedClock) -> tuple[JobLeases, JobLeases]:
    return JobLeases(db, clock, holder="host-a:1"), JobLeases(db, clock, holder="host-b:2")


def test_only_one_process_holds_the_scheduler_lease(db: Database, clock: FixedClock) -> None:
    a, b = _two_processes(db, clock)
    assert a.hold()
    assert not b.hold()
    assert a.hold()  # the holder renews


def test_a_process_that_stops_renewing_is_taken_over_once_its_lease_lapses(db: Database, clock: FixedClock) -> None:
    a, b = _two_processes(db, clock)
    assert a.hold()
    clock.set(clock.now() + a.ttl - timedelta(seconds=1))
    assert not b.hold()
    clock.set(clock.now() + timedelta(seconds=2))  # a died: no renewal for longer than the ttl
    assert b.hold()
    assert not a.hold()  # a came back: b keeps the jobs


def test_a_lease_given_back_on_shutdown_is_taken_at_once(db: Database, clock: FixedClock) -> None:
    a, b = _two_processes(db, clock)
    assert a.hold()
    a.release()
    assert b.hold()


def test_a_scheduled_job_runs_in_the_process_holding_the_lease_only(
    services: Services, settings: Settings, db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = _two_processes(db, clock)
    first = build_scheduler(services, settings, leases=a)
    second = build_scheduler(services, settings, leases=b)
    first_job = first.get_job("reminder_stale_claims")
    second_job = second.get_job("reminder_stale_claims")

    with caplog.at_level(logging.DEBUG, logger="bot.scheduler"):
        first_job.func()
        second_job.func()

    ran = [r.getMessage() for r in caplog.records if r.getMessage().startswith("scheduled job reminder_stale_claims")]
    assert len(ran) == 2
    assert ran[0] != ran[1] and "another process runs the jobs" in ran[1]
