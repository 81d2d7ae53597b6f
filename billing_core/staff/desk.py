"""The receivables desk for billing staff: the aging totals, the most overdue accounts with what
staff need to decide the next step, the month's figures, and the actions on an account.

Who is staff (a member of the private support channel) is decided at the chat edge, on every
request, before any of this runs; here every action is audited with the staff member as actor.
Reads are a handful of set-based queries over one page of accounts (no query per account).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from billing_core.accounts.receivables import AccountAging, Aging, most_overdue, totals, tune_for_aggregates
from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    AuditEventRecord,
    AutopayRecord,
    ContactRecord,
    EscalationRecord,
    InvoiceRecord,
    PaymentRecord,
    ReminderDeliveryRecord,
)
from billing_core.errors import AccountNotFound, InvoiceNotFound
from billing_core.escalations.views import format_reference
from billing_core.marks import OnceMarks
from billing_core.money import Money
from billing_core.reminders.messages import ReminderSender
from billing_core.reminders.promises import HoldView, Promises, PromiseView
from billing_core.sources.closing import PaidElsewhere, close_paid_elsewhere, close_void
from billing_core.staff.send_now import SentNow, send_now
from billing_core.views import Actor

DSO_DAYS = 30
MAX_INVOICES = 100  # what the close-an-invoice modal lists (a select's limit)


@dataclass(frozen=True, slots=True)
class DeskAccount:
    """One row of the most overdue accounts (one currency of one account)."""

    external_id: str
    name: str
    aging: Aging
    oldest_due_on: date
    last_reminder_at: datetime | None = None
    last_contact_at: datetime | None = None
    open_requests: int = 0
    autopay: bool = False
    promise: PromiseView | None = None
    hold_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """Month to date, per currency: collected through Slack and by autopay (minor units), days sales
    outstanding over the last ``DSO_DAYS`` (None without sales), and of the invoices reminded this
    month the share paid since (percent, None when none were reminded)."""

    month: date
    collected_slack: dict[str, int] = field(default_factory=dict)
    collected_autopay: dict[str, int] = field(default_factory=dict)
    dso_days: dict[str, int | None] = field(default_factory=dict)
    reminded_invoices: int = 0
    reminded_paid: int = 0

    @property
    def reminder_to_payment_percent(self) -> int | None:
        return None if not self.reminded_invoices else round(100 * self.reminded_paid / self.reminded_invoices)


@dataclass(frozen=True, slots=True)
class DeskOverview:
    today: date
    totals: list[Aging]
    accounts: list[DeskAccount]
    more: bool  # more (account, currency) pairs owe something overdue after this page
    page: int
    page_size: int
    figures: MonthFigures


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    number: str
    open_amount: Money
    due_on: date


@dataclass(frozen=True, slots=True)
class OpenRequest:
    reference: str
    topic: str
    requester_name: str
    requester_email: str
    message: str
    created_at: datetime


class StaffDesk:
    """See the module docstring. ``promises`` pause and resume; closing reuses ``billing_core.sources.closing``."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        timezone: ZoneInfo,
        promises: Promises,
        sender: ReminderSender | None = None,
        marks: OnceMarks | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._timezone = timezone
        self._promises = promises
        self._sender = sender
        self._marks = marks or OnceMarks(db, clock, ttl=timedelta(days=1))

    def today(self) -> date:
        return self._clock.now().astimezone(self._timezone).date()

    # -- reading ---------------------------------------------------------------------------

    def overview(self, *, page: int = 0, page_size: int = 10) -> DeskOverview:
        today = self.today()
        with self._db.read() as session:
            tune_for_aggregates(session)
            page = max(0, page)
            rows, more = most_overdue(session, today, limit=page_size, offset=page * page_size)
            if not rows and page > 0:  # past the end (accounts paid since): the first page
                page = 0
                rows, more = most_overdue(session, today, limit=page_size)
            open_totals = totals(session, today)
            return DeskOverview(
                today=today,
                totals=open_totals,
                accounts=self._details(session, rows),
                more=more,
                page=page,
                page_size=page_size,
                figures=self._figures(session, today, open_totals),
            )

    def _details(self, session: Session, rows: Sequence[AccountAging]) -> list[DeskAccount]:
        if not rows:
            return []
        ids = dict(
            session.execute(
                select(AccountRecord.external_id, AccountRecord.id).where(
                    AccountRecord.external_id.in_([r.account_id for r in rows])
                )
            ).all()
        )
        keys = list(ids.values())
        delivery = ReminderDeliveryRecord
        last_reminder = dict(
            session.execute(
                select(InvoiceRecord.account_id, func.max(delivery.sent_at))
                .join(InvoiceRecord, InvoiceRecord.id == delivery.invoice_id)
                .where(InvoiceRecord.account_id.in_(keys), delivery.status == "sent")
                .group_by(InvoiceRecord.account_id)
            ).all()
        )
        audit = AuditEventRecord
        contact_emails = select(ContactRecord.email).where(ContactRecord.account_id == audit.account_id)
        last_contact = dict(
            session.execute(
                select(audit.account_id, func.max(audit.at))
                .where(audit.account_id.in_(keys), audit.actor.in_(contact_emails.scalar_subquery()))
                .group_by(audit.account_id)
            ).all()
        )
        requests = dict(
            session.execute(
                select(EscalationRecord.account_id, func.count())
                .where(EscalationRecord.account_id.in_(keys), EscalationRecord.status == "open")
                .group_by(EscalationRecord.account_id)
            ).all()
        )
        autopay = set(
            session.scalars(
                select(AutopayRecord.account_id).where(AutopayRecord.account_id.in_(keys), AutopayRecord.enabled)
            )
        )
        promises = self._promises.latest(session, keys)
        holds = self._promises.holds(session, keys)
        out = []
        for row in rows:
            key = ids[row.account_id]
            out.append(
                DeskAccount(
                    row.account_id,
                    row.account_name,
                    row.aging,
                    row.oldest_due_on,
                    last_reminder.get(key),
                    last_contact.get(key),
                    int(requests.get(key, 0)),
                    key in autopay,
                    promises.get(key),
                    holds.get(key),
                )
            )
        return out

    def _figures(self, session: Session, today: date, open_totals: list[Aging]) -> MonthFigures:
        month = today.replace(day=1)
        since = datetime.combine(month, time(0), tzinfo=self._timezone)
        payment = PaymentRecord
        collected = session.execute(
            select(payment.source, payment.currency, func.sum(payment.amount_minor - payment.refunded_minor))
            .where(payment.status == "succeeded", payment.settled_at >= since)
            .group_by(payment.source, payment.currency)
        ).all()
        slack = {currency: int(total) for source, currency, total in collected if source == "slack"}
        autopay = {currency: int(total) for source, currency, total in collected if source == "autopay"}
        sales_since = today - timedelta(days=DSO_DAYS)
        sales = dict(
            session.execute(
                select(InvoiceRecord.currency, func.sum(InvoiceRecord.amount_due_minor))
                # Inline: PostgreSQL proves revision 0011's partial index (status <> 'void') applies.
                .where(
                    InvoiceRecord.issued_on > sales_since, InvoiceRecord.status != literal("void", literal_execute=True)
                )
                .group_by(InvoiceRecord.currency)
            ).all()
        )
        dso: dict[str, int | None] = {}
        for aging in open_totals:
            sold = int(sales.get(aging.currency) or 0)
            dso[aging.currency] = round(aging.total * DSO_DAYS / sold) if sold else None
        reminded = (
            select(ReminderDeliveryRecord.invoice_id)
            .where(ReminderDeliveryRecord.status == "sent", ReminderDeliveryRecord.sent_at >= since)
            .distinct()
            .subquery()
        )
        reminded_count, paid_count = session.execute(
            select(func.count(), func.count().filter(InvoiceRecord.status == "paid"))
            .select_from(reminded)
            .join(InvoiceRecord, InvoiceRecord.id == reminded.c.invoice_id)
        ).one()
        return MonthFigures(month, slack, autopay, dso, int(reminded_count or 0), int(paid_count or 0))

    def open_invoices(self, account_external_id: str) -> tuple[str, list[OpenInvoice]]:
        """The account's name and its open invoices, oldest due first (at most ``MAX_INVOICES``)."""
        with self._db.read() as session:
            account = _account(session, account_external_id)
            rows = session.execute(
                select(
                    InvoiceRecord.number,
                    InvoiceRecord.amount_due_minor,
                    InvoiceRecord.amount_paid_minor,
                    InvoiceRecord.currency,
                    InvoiceRecord.due_on,
                )
                .where(InvoiceRecord.account_id == account.id, InvoiceRecord.status == "open")
                .order_by(InvoiceRecord.due_on, InvoiceRecord.number)
                .limit(MAX_INVOICES)
            ).all()
            return account.name, [OpenInvoice(n, Money(due - paid, cur), on) for n, due, paid, cur, on in rows]

    def open_requests(self, account_external_id: str, *, limit: int = 20) -> tuple[str, list[OpenRequest]]:
        """The account's name and its open requests to billing support, newest first."""
        with self._db.read() as session:
            account = _account(session, account_external_id)
            records = session.scalars(
                select(EscalationRecord)
                .where(EscalationRecord.account_id == account.id, EscalationRecord.status == "open")
                .order_by(EscalationRecord.created_at.desc())
                .limit(limit)
            ).all()
            return account.name, [
                OpenRequest(
                    format_reference(r.id), r.topic, r.requester_name, r.requester_email, r.message, r.created_at
                )
                for r in records
            ]

    # -- acting (the caller checked ``staff`` is billing staff) -----------------------------------

    def pause(self, staff: Actor, account_external_id: str, until_day: date) -> HoldView:
        return self._promises.hold(staff, account_external_id, until_day)

    def resume(self, staff: Actor, account_external_id: str) -> bool:
        return self._promises.resume(staff, account_external_id)

    def send_reminder_now(self, staff: Actor, account_external_id: str) -> SentNow:
        """One reminder DM to each contact now, once per account and day (``billing_core.staff.send_now``)."""
        return send_now(
            self._db, self._marks, self._sender, staff, account_external_id, now=self._clock.now(), today=self.today()
        )

    def mark_paid_elsewhere(
        self, staff: Actor, account_external_id: str, number: str, *, method: str, reference: str
    ) -> bool:
        """Close the open invoice as paid outside Slack, for its open amount, today."""
        now = self._clock.now()
        with self._db.transaction() as session:
            account, invoice = _invoice(session, account_external_id, number)
            report = PaidElsewhere(
                amount_minor=invoice.amount_due_minor - invoice.amount_paid_minor,
                currency=invoice.currency,
                method=(method.strip() or "other")[:64],
                reference=reference.strip()[:255],
                paid_on=self.today(),
                source="slack",
            )
            changed = close_paid_elsewhere(session, invoice, report, now=now)
            add_audit_event(
                session,
                at=now,
                actor=staff,
                action="staff.paid_elsewhere",
                outcome="closed" if changed else "unchanged",
                account_id=account.id,
                target=f"invoice:{number}",
                detail={"method": report.method},
            )
            return changed

    def void(self, staff: Actor, account_external_id: str, number: str) -> bool:
        now = self._clock.now()
        with self._db.transaction() as session:
            account, invoice = _invoice(session, account_external_id, number)
            changed = close_void(session, invoice, now=now)
            add_audit_event(
                session,
                at=now,
                actor=staff,
                action="staff.void",
                outcome="closed" if changed else "unchanged",
                account_id=account.id,
                target=f"invoice:{number}",
            )
            return changed


def _account(session: Session, external_id: str) -> AccountRecord:
    account = session.scalar(select(AccountRecord).where(AccountRecord.external_id == external_id))
    if account is None:
        raise AccountNotFound(external_id)
    return account


def _invoice(session: Session, account_external_id: str, number: str) -> tuple[AccountRecord, InvoiceRecord]:
    account = _account(session, account_external_id)
    invoice = session.scalar(
        select(InvoiceRecord)
        .where(InvoiceRecord.account_id == account.id, InvoiceRecord.number == number)
        .with_for_update()
    )
    if invoice is None:
        raise InvoiceNotFound(number)
    return account, invoice
