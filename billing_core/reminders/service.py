"""Scheduled invoice reminders: the sweep, its preview, pauses and the stale-claim clean-up.

A sweep, at a moment ``now``:
0. settles promises to pay whose day has passed (kept, or broken: reminders restart);
1. rewrites sent reminders whose invoices were paid since ("Paid, thank you");
2. sends, for each open invoice and billing contact, the latest schedule step whose day has come
   and that was not sent yet, grouped into one DM per person and step, only within the person's
   working hours, each claimed in the database first so it goes out exactly once;
3. hands invoices still unpaid 30 days after due, once the last reminder has gone, to billing
   support.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.errors import ConfigurationError
from billing_core.messaging import Batching, PostedMessage
from billing_core.reminders import claims
from billing_core.reminders.messages import ReminderLine, ReminderSender
from billing_core.reminders.overdue import OverdueEscalator, escalate_overdue
from billing_core.reminders.pauses import ALREADY_PAID, SNOOZE, pause
from billing_core.reminders.plan import PlanWindow, group_reminders, iter_due
from billing_core.reminders.preferences import ContactPreferences, StaffAlert
from billing_core.reminders.promises import Promises
from billing_core.reminders.reveal import reveal_withheld
from billing_core.reminders.schedule import ReminderSchedule
from billing_core.reminders.sent import invoices_in_dm
from billing_core.reminders.snooze import dm_invoices
from billing_core.reminders.sweep import DeliveryPass, SweepResult
from billing_core.reminders.thanks import thank_paid
from billing_core.views import Actor

if TYPE_CHECKING:
    from billing_core.autopay.card_health import CardHealth

log = logging.getLogger(__name__)

STALE_CLAIM_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """One DM a sweep would send now (before working hours and workspace membership are checked)."""

    email: str
    contact_name: str
    step: int
    lines: tuple[ReminderLine, ...]


class ReminderService:
    """The reminder use cases the scheduler, the CLI and the Slack buttons call."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        schedule: ReminderSchedule,
        sender: ReminderSender | None = None,
        escalator: OverdueEscalator | None = None,
        stale_timeout: timedelta = STALE_CLAIM_TIMEOUT,
        final_wait: float = 60.0,
        sleep: Callable[[float], None] | None = None,
        card_health: CardHealth | None = None,
        alert_staff: StaffAlert | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.schedule = schedule
        self.sender = sender
        self.escalator = escalator
        self._stale_timeout = stale_timeout
        self._final_wait = final_wait
        self._sleep = sleep
        # Card health (``billing_core.autopay.card_health``) rides on the sweep when given.
        self.card_health = card_health
        # Consent: "Stop reminders", "Not me" (billing staff are told through ``alert_staff``) and
        # the Home's switch; the sweep's plan honours them.
        self.preferences = ContactPreferences(db=db, clock=clock, alert_staff=alert_staff)
        # Promises to pay and staff holds pause an account's reminders; the sweep settles promises first.
        self.promises = Promises(db=db, clock=clock, timezone=schedule.timezone)

    def window(self, now: datetime | None = None) -> PlanWindow:
        moment = now or self._clock.now()
        return PlanWindow(now=moment, today=self.schedule.today(moment), stale_before=moment - self._stale_timeout)

    def run_sweep(self, now: datetime | None = None) -> SweepResult:
        """One full sweep (see the module docstring). Needs a sender (a Slack token or OAuth)."""
        if self.sender is None:
            raise ConfigurationError(
                "SLACK_BOT_TOKEN (or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET) is required to send reminders but is not set"
            )
        window = self.window(now)
        result = SweepResult()
        settled = self.promises.settle(window.now)
        if settled.broken or settled.kept:
            result.notes.append(f"promises to pay: {settled.kept} kept, {settled.broken} broken (reminders restart)")
        with self.sender.batch() if isinstance(self.sender, Batching) else nullcontext():
            result.thanked = thank_paid(self._db, self.sender, window)
            delivery = DeliveryPass(
                db=self._db,
                sender=self.sender,
                schedule=self.schedule,
                window=window,
                result=result,
                final_wait=self._final_wait,
                sleep=self._sleep or time.sleep,
            )
            delivery.run()
            if self.escalator is not None:
                result.escalated = escalate_overdue(self._db, self.escalator, self.schedule, window)
            if self.card_health is not None:
                health = self.card_health.run(window.now, window.today)
                result.notes.append(
                    f"card expiry notices: sent {health.sent}, postponed {health.postponed}, failed {health.failed}"
                )
        log.info(
            "reminder sweep: %s; %d DM(s), %d postponed, %d thanked, %d escalated",
            result.summary(),
            result.messages,
            result.postponed,
            result.thanked,
            result.escalated,
        )
        return result

    def preview(self, now: datetime | None = None, *, limit: int | None = None) -> list[PlannedReminder]:
        """What a sweep at ``now`` would send, without sending or writing anything."""
        planned: list[PlannedReminder] = []
        for group in group_reminders(iter_due(self._db, self.schedule, self.window(now))):
            planned.append(
                PlannedReminder(
                    group.email, group.contact_name, group.step, tuple(reminder.line for reminder in group.reminders)
                )
            )
            if limit is not None and len(planned) >= limit:
                break
        return planned

    def reveal_withheld(self, email: str) -> int:
        """After ``email`` was proven: show the details of reminders sent to it as "waiting"."""
        if self.sender is None:
            return 0
        now = self._clock.now()
        return reveal_withheld(self._db, self.sender, email, now, self.schedule.today(now))

    def expire_stale_claims(self, now: datetime | None = None) -> int:
        """Turn claims left by a process that stopped mid-send into failures the next sweep retries."""
        return claims.expire_stale_claims(self._db, stale_before=self.window(now).stale_before)

    def snooze(self, actor: Actor, invoices: Sequence[tuple[str, str]]) -> datetime:
        """ "Remind me later": no reminders to this person for these invoices for 3 days."""
        now = self._clock.now()
        with self._db.transaction() as session:
            return pause(session, actor, invoices, now=now, length=SNOOZE, reason="snooze")

    def snooze_dm(
        self, actor: Actor, posted: PostedMessage | None, account_external_id: str, invoice_number: str
    ) -> datetime:
        """ "Remind me later" clicked in the DM at ``posted`` (``None``: not known) on a button naming
        one of its invoices: no reminders to this person for the DM's unpaid invoices for 3 days.
        Each invoice is checked against the actor's accounts; one not theirs refuses them all."""
        now = self._clock.now()
        invoices = dm_invoices(self._db, posted, account_external_id, invoice_number)
        with self._db.transaction() as session:
            return pause(session, actor, invoices, now=now, length=SNOOZE, reason="snooze")

    def pause_already_paid(self, actor: Actor, account_external_id: str, invoice_number: str) -> datetime:
        """ "I've already paid": no reminders to this person for the invoice for 7 days."""
        now = self._clock.now()
        with self._db.transaction() as session:
            return pause(
                session,
                actor,
                [(account_external_id, invoice_number)],
                now=now,
                length=ALREADY_PAID,
                reason="already_paid",
            )

    def already_paid(self, actor: Actor, account_external_id: str, invoice_number: str) -> tuple[datetime, str | None]:
        """Pause for 7 days and tell billing support; returns (paused until, escalation reference)."""
        until = self.pause_already_paid(actor, account_external_id, invoice_number)
        reference: str | None = None
        if self.escalator is not None:
            view = self.escalator.report_already_paid(actor, account_external_id, invoice_number)
            reference = getattr(view, "reference", None)
            # Like a request from the support modal: the e-mail leaves now, not at the next outbox run
            # (which never comes under --no-scheduler without cron, nor in the console).
            self.escalator.deliver_soon(view)
        return until, reference

    def invoices_in_reminder(self, actor: Actor, channel: str, ts: str) -> list[tuple[str, str]]:
        """The ``(account, invoice number)`` pairs of the reminder DM at ``channel``/``ts`` that are the
        actor's (a reply in that DM's thread is about them); empty for any other message."""
        return invoices_in_dm(self._db, actor.email, channel, ts)
