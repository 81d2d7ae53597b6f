"""Scheduled jobs inside ``serve`` and ``socket`` (APScheduler 3, a BackgroundScheduler).

Every job calls the same services the CLI calls, and each is safe with several processes on one
database: reminder sends are claimed in the database, the escalation outbox claims its rows, and
reconcile settles through compare-and-set updates. Within one process a job never overlaps itself
(``max_instances=1``); runs missed while a long sweep was going are merged into one (``coalesce``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from billing_core.container import Services
from bot.logging_setup import new_correlation_id
from bot.settings import Settings

log = logging.getLogger(__name__)

REMINDER_SWEEP_MINUTES = 15
RECONCILE_MINUTES = 5
STALE_CLAIMS_MINUTES = 5
ESCALATION_OUTBOX_MINUTES = 1


def build_scheduler(
    services: Services, settings: Settings, *, client: Any = None, first_run_in: float = 10.0
) -> BackgroundScheduler:
    """The scheduler with every job that the installed capabilities support; not started.

    ``client`` (the Bolt app's WebClient) sends reminders when no ``SLACK_BOT_TOKEN`` sender was
    built (OAuth installs). The frequent jobs first run ``first_run_in`` seconds after start.
    """
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    soon = datetime.now(UTC) + timedelta(seconds=first_run_in)
    reminders = services.reminders
    if reminders.sender is None and client is not None and getattr(client, "token", None):
        from bot.slack_reminder_sender import SlackReminderSender

        reminders.sender = SlackReminderSender(client)
    if reminders.sender is not None:
        _add(scheduler, "reminder_sweep", reminders.run_sweep, REMINDER_SWEEP_MINUTES, first=soon)
    _add(scheduler, "reminder_stale_claims", reminders.expire_stale_claims, STALE_CLAIMS_MINUTES)
    if services.payments is not None:
        _add(scheduler, "payment_reconcile", services.payments.reconcile, RECONCILE_MINUTES, first=soon)
    _add(scheduler, "escalation_outbox", services.escalations.outbox.deliver_due, ESCALATION_OUTBOX_MINUTES,
         first=soon)
    return scheduler


def start_scheduler(
    services: Services, settings: Settings, client: Any = None, *, first_run_in: float = 10.0
) -> BackgroundScheduler:
    """Build and start the scheduler; the caller shuts it down (``shutdown()``) on exit."""
    scheduler = build_scheduler(services, settings, client=client, first_run_in=first_run_in)
    scheduler.start()
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    return scheduler


def _add(
    scheduler: BackgroundScheduler, name: str, job: Callable[[], object], minutes: int,
    *, first: datetime | None = None,
) -> None:
    scheduler.add_job(
        _logged(name, job), IntervalTrigger(minutes=minutes), id=name, name=name, replace_existing=True,
        max_instances=1, coalesce=True, misfire_grace_time=300,
        **({"next_run_time": first} if first is not None else {}),
    )


def _logged(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        new_correlation_id()
        try:
            outcome = job()
        except Exception:  # a failing job must not stop the others; it runs again next interval
            log.exception("scheduled job %s failed", name)
            return
        summary = outcome.summary() if hasattr(outcome, "summary") else outcome
        log.info("scheduled job %s: %s", name, summary)

    return run
