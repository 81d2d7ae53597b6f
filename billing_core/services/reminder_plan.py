"""Set-based planning: which (invoice, contact, step) reminders are due at a moment.

One SQL statement per page finds them all: the step is a ``CASE`` over the due date, and an
anti-join against deliveries and pauses drops what was sent, is being sent or is paused.
Pages are cut by contact e-mail (keyset), so one person's reminders are never split across
pages and memory stays bounded however many invoices there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, or_, select

from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    ContactRecord,
    InvoiceRecord,
    ReminderDeliveryRecord,
    ReminderPauseRecord,
)
from billing_core.money import Money
from billing_core.reminder_messages import ReminderLine
from billing_core.reminder_schedule import ReminderSchedule

MAX_INVOICES_PER_DM = 20  # keeps a DM well inside Slack's 50-block limit (2 blocks per invoice)
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class DueReminder:
    invoice_id: int
    contact_id: int
    step: int
    email: str
    contact_name: str
    line: ReminderLine


@dataclass(frozen=True, slots=True)
class ReminderGroup:
    """The reminders that share one DM: one person, one step."""

    email: str
    contact_name: str
    step: int
    reminders: tuple[DueReminder, ...]


@dataclass(frozen=True, slots=True)
class PlanWindow:
    """The moment a sweep plans for, and what counts as retryable then."""

    now: datetime
    today: date
    stale_before: datetime
    max_attempts: int = MAX_ATTEMPTS


def step_expression(schedule: ReminderSchedule, today: date) -> Any:
    """SQL for the latest step whose day has come, given the invoice's due date."""
    return case(
        *[(InvoiceRecord.due_on <= cutoff, step) for step, cutoff in schedule.thresholds(today)],
        else_=None,
    )


def due_query(schedule: ReminderSchedule, window: PlanWindow) -> Select[Any]:
    """Every due reminder, ordered so that one person's reminders come together."""
    step = step_expression(schedule, window.today).label("step")
    first_cutoff = schedule.thresholds(window.today)[-1][1]
    delivery = ReminderDeliveryRecord
    pause = ReminderPauseRecord
    return (
        select(
            InvoiceRecord.id,
            ContactRecord.id,
            step,
            ContactRecord.email,
            ContactRecord.name,
            AccountRecord.external_id,
            AccountRecord.name,
            InvoiceRecord.number,
            InvoiceRecord.amount_due_minor,
            InvoiceRecord.amount_paid_minor,
            InvoiceRecord.currency,
            InvoiceRecord.due_on,
        )
        .join(ContactRecord, ContactRecord.account_id == InvoiceRecord.account_id)
        .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
        .outerjoin(
            delivery,
            and_(
                delivery.invoice_id == InvoiceRecord.id,
                delivery.contact_id == ContactRecord.id,
                delivery.step == step_expression(schedule, window.today),
            ),
        )
        .outerjoin(
            pause,
            and_(
                pause.invoice_id == InvoiceRecord.id,
                pause.contact_id == ContactRecord.id,
                pause.until > window.now,
            ),
        )
        .where(
            InvoiceRecord.status == "open",
            InvoiceRecord.due_on <= first_cutoff,
            pause.id.is_(None),
            or_(
                delivery.id.is_(None),
                and_(delivery.status == "failed", delivery.attempts < window.max_attempts),
                and_(delivery.status == "claimed", delivery.claimed_at < window.stale_before),
            ),
        )
        .order_by(ContactRecord.email, "step", AccountRecord.external_id, InvoiceRecord.number)
    )


def _reminder(row: Any) -> DueReminder:
    (invoice_id, contact_id, step, email, contact_name, account_id, account_name, number,
     due_minor, paid_minor, currency, due_on) = row
    line = ReminderLine(
        account_external_id=account_id,
        account_name=account_name,
        invoice_number=number,
        amount=Money(due_minor - paid_minor, currency),
        due_on=due_on,
    )
    return DueReminder(invoice_id, contact_id, int(step), email, contact_name, line)


def iter_due(db: Database, schedule: ReminderSchedule, window: PlanWindow, *, page_size: int = 10_000
             ) -> Iterator[DueReminder]:
    """Every due reminder, page by page, each person's reminders within one page."""
    query = due_query(schedule, window)
    after: str | None = None
    while True:
        page_query = query if after is None else query.where(ContactRecord.email > after)
        with db.read() as session:
            rows = session.execute(page_query.limit(page_size)).all()
            full = len(rows) == page_size
            if full and rows[0][3] == rows[-1][3]:
                # One person with more than a page: take all of theirs in one go.
                rows = session.execute(query.where(ContactRecord.email == rows[0][3])).all()
            elif full:
                last = rows[-1][3]
                rows = [row for row in rows if row[3] != last]
        if not rows:
            return
        yield from (_reminder(row) for row in rows)
        after = rows[-1][3]
        if not full:
            return


def group_reminders(reminders: Iterator[DueReminder]) -> Iterator[ReminderGroup]:
    """Consecutive reminders for one person and step, at most ``MAX_INVOICES_PER_DM`` per DM."""
    batch: list[DueReminder] = []
    for reminder in reminders:
        if batch and (
            (reminder.email, reminder.step) != (batch[0].email, batch[0].step)
            or len(batch) >= MAX_INVOICES_PER_DM
        ):
            yield _group(batch)
            batch = []
        batch.append(reminder)
    if batch:
        yield _group(batch)


def _group(batch: list[DueReminder]) -> ReminderGroup:
    first = batch[0]
    return ReminderGroup(first.email, first.contact_name, first.step, tuple(batch))
