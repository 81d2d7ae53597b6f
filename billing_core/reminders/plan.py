"""Set-based planning: which (invoice, contact, step) reminders are due at a moment.

One SQL statement finds them all: the step is a ``CASE`` over the due date (the steps are a
short constant list), and ``NOT EXISTS`` anti-joins drop what was sent, is being sent or is
paused. Rows come back ordered by person and are streamed (``billing_core.db.streaming``), so the plan is
computed once, not once per page, and memory stays bounded however many invoices there are. DMs
are cut from the stream as it comes; their reminder objects are built only when a DM is used
(see :class:`ReminderGroup`).

The stream is read inside one read transaction. A sweep consumes it slowly (about one DM a
second), so a read is closed after ``READ_HOLD_SECONDS`` at the next person boundary and the plan
re-read after the last person done: no snapshot is held for hours. Claims re-check everything
before a send, so a slightly old snapshot never sends twice or sends what was paid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Select, and_, case, exists, not_, or_, select

from billing_core.autopay.charging import MAX_ATTEMPTS as AUTOPAY_ATTEMPTS
from billing_core.db.database import Database
from billing_core.db.streaming import stream_rows
from billing_core.db.tables import (
    AccountRecord,
    AutopayAttemptRecord,
    AutopayRecord,
    ContactPreferenceRecord,
    ContactRecord,
    InvoiceRecord,
    PaymentMethodRecord,
    PrincipalRecord,
    ReminderDeliveryRecord,
    ReminderPauseRecord,
)
from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine
from billing_core.reminders.promises import not_account_paused
from billing_core.reminders.schedule import ReminderSchedule

MAX_INVOICES_PER_DM = 20  # keeps a DM well inside Slack's 50-block limit (2 blocks per invoice)
MAX_ATTEMPTS = 5
READ_HOLD_SECONDS = 60.0
STREAM_TIMEOUT_MARGIN_SECONDS = 600.0  # for one slow DM (Slack timeouts) past the hold
FETCH_ROWS = 10_000

_STEP = 2
_EMAIL = 3
_NAME = 4
_RUN_KEY = itemgetter(_EMAIL, _STEP)

# For the planning read on PostgreSQL: the whole result is read, so plan for total time rather than
# first rows (a cursor's default), sort in memory, and skip JIT (its compile time exceeds its gain).
_POSTGRES_PLANNING_SETTINGS = (
    "SET LOCAL cursor_tuple_fraction = 1.0",
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL jit = off",
)


@dataclass(frozen=True, slots=True)
class DueReminder:
    invoice_id: int
    contact_id: int
    step: int
    email: str
    contact_name: str
    line: ReminderLine
    introduce: bool = False  # the contact's first DM: the bot introduces itself, with the ways out


class ReminderGroup:
    """The reminders that share one DM: one person, one step (read-only).

    A planned group keeps its rows and builds ``reminders`` on first use: planning a sweep builds
    no objects for DMs that end up postponed (working hours), and ``size`` needs none.
    """

    __slots__ = ("_reminders", "_rows", "contact_name", "email", "step")

    def __init__(
        self,
        email: str,
        contact_name: str,
        step: int,
        reminders: tuple[DueReminder, ...] = (),
        *,
        rows: Sequence[Any] | None = None,
    ) -> None:
        """``rows``: rows of :func:`due_query`, turned into ``reminders`` when first asked."""
        self.email = email
        self.contact_name = contact_name
        self.step = step
        self._rows: Sequence[Any] = rows or ()
        self._reminders: tuple[DueReminder, ...] | None = None if rows else reminders

    @property
    def reminders(self) -> tuple[DueReminder, ...]:
        if self._reminders is None:
            self._reminders = tuple(map(_reminder, self._rows))
            self._rows = ()
        return self._reminders

    @property
    def size(self) -> int:
        """How many reminders (invoices) the DM holds."""
        return len(self._rows) if self._reminders is None else len(self._reminders)

    def _key(self) -> tuple[str, str, int, tuple[DueReminder, ...]]:
        return (self.email, self.contact_name, self.step, self.reminders)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReminderGroup) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"ReminderGroup(email={self.email!r}, step={self.step}, size={self.size})"


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


def due_query(schedule: ReminderSchedule, window: PlanWindow, *, after: str | None = None) -> Select[Any]:
    """Every due reminder (of people whose e-mail sorts after ``after``), one person's together."""
    step = step_expression(schedule, window.today)
    first_cutoff = schedule.thresholds(window.today)[-1][1]
    delivery = ReminderDeliveryRecord
    pause = ReminderPauseRecord
    retryable = or_(
        and_(delivery.status == "failed", delivery.attempts < window.max_attempts),
        and_(delivery.status == "claimed", delivery.claimed_at < window.stale_before),
    )
    # (invoice, contact, step) is unique, so "no delivery, or a retryable one" is "none that is not retryable".
    delivered = exists().where(
        delivery.invoice_id == InvoiceRecord.id,
        delivery.contact_id == ContactRecord.id,
        delivery.step == step,
        not_(retryable),
    )
    paused = exists().where(
        pause.invoice_id == InvoiceRecord.id,
        pause.contact_id == ContactRecord.id,
        pause.until > window.now,
    )
    preference = ContactPreferenceRecord
    # "Stop reminders" or "Not me" (billing_core.reminders.preferences): no reminders to that contact.
    opted_out = exists().where(
        preference.contact_id == ContactRecord.id,
        or_(preference.reminders_stopped_at.is_not(None), preference.not_me_at.is_not(None)),
    )
    introduced = exists().where(preference.contact_id == ContactRecord.id, preference.introduced_at.is_not(None))
    used_the_app = exists().where(PrincipalRecord.email == ContactRecord.email)
    query = (
        select(
            InvoiceRecord.id,
            ContactRecord.id,
            step.label("step"),
            ContactRecord.email,
            ContactRecord.name,
            AccountRecord.external_id,
            AccountRecord.name,
            InvoiceRecord.number,
            InvoiceRecord.amount_due_minor,
            InvoiceRecord.amount_paid_minor,
            InvoiceRecord.currency,
            InvoiceRecord.due_on,
            case((step <= 0, _autopay_card()), else_=None).label("autopay_card"),
            InvoiceRecord.document_url,
            case((or_(introduced, used_the_app), False), else_=True).label("introduce"),
        )
        .join(ContactRecord, ContactRecord.account_id == InvoiceRecord.account_id)
        .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
        .where(
            InvoiceRecord.status == "open",
            InvoiceRecord.due_on <= first_cutoff,
            ~delivered,
            ~paused,
            *not_account_paused(window.now),  # a promise to pay, or billing staff's hold
            ~opted_out,
            or_(step <= 0, ~_autopay_pending()),
        )
        .order_by(ContactRecord.email, "step", AccountRecord.external_id, InvoiceRecord.number)
    )
    return query if after is None else query.where(ContactRecord.email > after)


def _autopay_card() -> Any:
    """``brand:last4`` of the default card autopay will charge the invoice's account with, or NULL."""
    card = PaymentMethodRecord
    return (
        select(card.brand + ":" + card.last4)
        .where(
            card.account_id == InvoiceRecord.account_id,
            card.is_default.is_(True),
            exists().where(AutopayRecord.account_id == InvoiceRecord.account_id, AutopayRecord.enabled.is_(True)),
        )
        .limit(1)
        .scalar_subquery()
    )


def _autopay_pending() -> Any:
    """An autopay charge of the invoice is under way, or a declined one will be tried again: the
    overdue reminder waits (after the last try, reminders take over)."""
    attempt = AutopayAttemptRecord
    retry_coming = and_(
        attempt.status == "declined",
        attempt.attempt < AUTOPAY_ATTEMPTS,
        exists().where(AutopayRecord.account_id == InvoiceRecord.account_id, AutopayRecord.enabled.is_(True)),
    )
    return exists().where(
        attempt.invoice_id == InvoiceRecord.id,
        # No IN (...): the psycopg stream compiles the query once, without expanding parameters.
        or_(attempt.status == "pending", attempt.status == "requires_action", retry_coming),
    )


def iter_groups(
    db: Database,
    schedule: ReminderSchedule,
    window: PlanWindow,
    *,
    fetch_rows: int = FETCH_ROWS,
    hold_seconds: float = READ_HOLD_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[ReminderGroup]:
    """Every DM to send, in e-mail order: one person and step, at most ``MAX_INVOICES_PER_DM`` each."""
    after: str | None = None
    while True:
        read = _read(db, due_query(schedule, window, after=after), fetch_rows, hold_seconds, monotonic)
        resume_after = yield from read
        if resume_after is None:
            return
        after = resume_after


def _read(
    db: Database, query: Select[Any], fetch_rows: int, hold_seconds: float, monotonic: Callable[[], float]
) -> Generator[ReminderGroup, None, str | None]:
    """Stream one read; return the e-mail to resume after if the hold ran out, None when done.

    Rows come in runs of one (person, step); ``groupby`` finds the runs, so no Python code of
    ours runs per row.
    """
    with db.read() as session:
        connection = session.connection()
        opened = monotonic()
        rows = stream_rows(
            connection,
            query,
            fetch_rows=fetch_rows,
            statement_timeout_seconds=hold_seconds + STREAM_TIMEOUT_MARGIN_SECONDS,
            postgres_settings=_POSTGRES_PLANNING_SETTINGS,
            cursor_name="billing_reminder_plan",
        )
        try:
            email: str | None = None
            for (run_email, step), run in groupby(rows, _RUN_KEY):
                if run_email != email:
                    if email is not None and monotonic() - opened >= hold_seconds:
                        return email
                    email = run_email
                batch = list(run)
                if len(batch) <= MAX_INVOICES_PER_DM:  # nearly always: one DM, built inline
                    yield ReminderGroup(run_email, batch[0][_NAME], int(step), rows=batch)
                else:
                    yield from _split(run_email, int(step), batch)
            return None
        finally:
            rows.close()


def _split(email: str, step: int, run: list[Any]) -> Iterator[ReminderGroup]:
    """One person's rows at one step as DMs of at most MAX_INVOICES_PER_DM invoices."""
    for start in range(0, len(run), MAX_INVOICES_PER_DM):
        part = run[start : start + MAX_INVOICES_PER_DM]
        yield ReminderGroup(email, part[0][_NAME], step, rows=part)


def _reminder(row: Any) -> DueReminder:
    (
        invoice_id,
        contact_id,
        step,
        email,
        contact_name,
        account_id,
        account_name,
        number,
        due_minor,
        paid_minor,
        currency,
        due_on,
        autopay_card,
        document_url,
        introduce,
    ) = row
    line = ReminderLine(
        account_external_id=account_id,
        account_name=account_name,
        invoice_number=number,
        amount=Money(due_minor - paid_minor, currency),
        due_on=due_on,
        autopay_card=_card_label(autopay_card),
        document_url=document_url,
    )
    return DueReminder(invoice_id, contact_id, int(step), email, contact_name, line, bool(introduce))


def _card_label(brand_last4: str | None) -> str:
    if not brand_last4:
        return ""
    brand, _, last4 = brand_last4.partition(":")
    return f"{brand.title()} •••• {last4}"


def iter_due(
    db: Database, schedule: ReminderSchedule, window: PlanWindow, *, page_size: int = FETCH_ROWS
) -> Iterator[DueReminder]:
    """Every due reminder, one person's together (``page_size``: rows fetched at a time)."""
    for group in iter_groups(db, schedule, window, fetch_rows=page_size):
        yield from group.reminders


def group_reminders(reminders: Iterator[DueReminder]) -> Iterator[ReminderGroup]:
    """Consecutive reminders for one person and step, at most ``MAX_INVOICES_PER_DM`` per DM."""
    batch: list[DueReminder] = []
    for reminder in reminders:
        if batch and (
            (reminder.email, reminder.step) != (batch[0].email, batch[0].step) or len(batch) >= MAX_INVOICES_PER_DM
        ):
            yield _group(batch)
            batch = []
        batch.append(reminder)
    if batch:
        yield _group(batch)


def _group(batch: list[DueReminder]) -> ReminderGroup:
    first = batch[0]
    return ReminderGroup(first.email, first.contact_name, first.step, tuple(batch))
