"""Scheduled jobs inside ``serve`` and ``socket`` (APScheduler 3, a BackgroundScheduler).

Every job calls the same services the CLI calls. With several processes on one database, only
the holder of the ``scheduler`` lease (``billing_core.leases``) runs them: it renews the lease on a
heartbeat, and when it dies another process takes over within the lease's lifetime. The jobs stay
safe to run twice anyway (reminder sends are claimed in the database, the escalation outbox claims
its rows, reconcile settles through compare-and-set updates): the lease only stops duplicate work.
Within one process a job never overlaps itself (``max_instances=1``); runs missed while a long
sweep was going are merged into one (``coalesce``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from billing_core.container import Services
from billing_core.leases import JobLeases
from bot.logging_setup import new_correlation_id
from bot.settings import Settings

log = logging.getLogger(__name__)

REMINDER_SWEEP_MINUTES = 15
RECONCILE_MINUTES = 5
STALE_CLAIMS_MINUTES = 5
ESCALATION_OUTBOX_MINUTES = 1
AUTOPAY_MINUTES = 15


def build_scheduler(
    services: Services,
    settings: Settings,
    *,
    first_run_in: float = 10.0,
    leases: JobLeases | None = None,
) -> BackgroundScheduler:
    """The scheduler with every job that the installed capabilities support; not started.

    Reminders go through the sender ``bot.compose`` built (every installed workspace with OAuth,
    else ``SLACK_BOT_TOKEN``). The frequent jobs first run ``first_run_in`` seconds after start.
    """
    leases = leases or JobLeases(services.db, services.clock)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    soon = datetime.now(UTC) + timedelta(seconds=first_run_in)
    reminders = services.reminders
    if reminders.sender is not None:
        _add(scheduler, leases, "reminder_sweep", reminders.run_sweep, REMINDER_SWEEP_MINUTES, first=soon)
    _add(scheduler, leases, "reminder_stale_claims", reminders.expire_stale_claims, STALE_CLAIMS_MINUTES)
    if services.payments is not None:
        payments = services.payments
        _add(scheduler, leases, "payment_reconcile", payments.reconcile, RECONCILE_MINUTES, first=soon)
        _add(scheduler, leases, "autopay", payments.autopay_pass.run, AUTOPAY_MINUTES, first=soon)
    _add(
        scheduler,
        leases,
        "escalation_outbox",
        services.escalations.outbox.deliver_due,
        ESCALATION_OUTBOX_MINUTES,
        first=soon,
    )
    scheduler.add_job(
        _heartbeat(leases),
        IntervalTrigger(seconds=settings.scheduler_heartbeat_seconds),
        id="scheduler_lease",
        name="scheduler_lease",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_listener(_give_back(leases), EVENT_SCHEDULER_SHUTDOWN)
    return scheduler


def start_scheduler(services: Services, settings: Settings, *, first_run_in: float = 10.0) -> BackgroundScheduler:
    """Build and start the scheduler; the caller shuts it down (``shutdown()``) on exit."""
    scheduler = build_scheduler(services, settings, first_run_in=first_run_in)
    scheduler.start()
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    return scheduler


def _add(
    scheduler: BackgroundScheduler,
    leases: JobLeases,
    name: str,
    job: Callable[[], object],
    minutes: int,
    *,
    first: datetime | None = None,
) -> None:
    scheduler.add_job(
        _logged(name, job, leases),
        IntervalTrigger(minutes=minutes),
        id=name,
        name=name,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=300,
        **({"next_run_time": first} if first is not None else {}),
    )


def _give_back(leases: JobLeases) -> Callable[[object], None]:
    def release(_event: object) -> None:
        try:
            leases.release()  # the next process takes over at its next tick, not after the ttl
        except Exception:
            log.exception("could not give back the scheduler lease")

    return release


def _heartbeat(leases: JobLeases) -> Callable[[], None]:
    def renew() -> None:
        try:
            leases.hold()
        except Exception:  # the database is away: the jobs skip until it is back
            log.exception("could not renew the scheduler lease")

    return renew


def _logged(name: str, job: Callable[[], object], leases: JobLeases) -> Callable[[], None]:
    def run() -> None:
        new_correlation_id()
        try:
            if not leases.hold():
                log.debug("scheduled job %s: another process runs the jobs", name)
                return
            outcome = job()
        except Exception:  # a failing job must not stop the others; it runs again next interval
            log.exception("scheduled job %s failed", name)
            return
        summary = outcome.summary() if hasattr(outcome, "summary") else outcome
        log.info("scheduled job %s: %s", name, summary)

    return run
