"""Stripe Billing as the source of invoices (``INVOICE_SOURCE=stripe``).

Finalized Stripe invoices of the bot's customers (accounts with a ``stripe_customer_id``) become
the bot's open invoices without any import; ``invoice.*`` webhooks and ``billing-bot invoices sync``
keep them current, and right before a charge the payment's Stripe invoices are read again
(``confirm``), so one paid, voided or written off in Stripe is never charged here.

Stripe's statuses (https://docs.stripe.com/invoicing/overview#invoice-statuses): ``draft`` is not
the customer's yet (ignored); ``open`` is payable; ``paid``, ``void`` and ``uncollectible`` close
the bot's invoice (paid in Stripe outside Slack, voided, written off).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing_core.accounts.invoice_state import PAID_ELSEWHERE, UNCOLLECTIBLE
from billing_core.accounts.provider_invoices import BillingInvoice
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    ContactRecord,
    InvoiceRecord,
    PaymentInvoiceRecord,
    PaymentRecord,
)
from billing_core.errors import ChargeUnderWay, InvoiceClosedAtSource, PaymentProviderError
from billing_core.identity.emails import is_valid_email, normalize_email
from billing_core.payments.ports import PaymentGateway
from billing_core.sources.closing import ClosedOtherwise, PaidElsewhere, close_paid_elsewhere, close_void

logger = logging.getLogger(__name__)

STRIPE_SOURCE = "stripe"
CHARGED_BY_STRIPE = "charge_automatically"


@dataclass
class SyncSummary:
    """What ``invoices sync`` did, per outcome of ``apply``."""

    customers: int = 0
    created: int = 0
    updated: int = 0
    closed: int = 0
    unchanged: int = 0
    ignored: int = 0
    deferred: int = 0

    def line(self) -> str:
        return (
            f"customers {self.customers}: invoices {self.created} created, {self.updated} updated, "
            f"{self.closed} closed, {self.unchanged} unchanged, {self.ignored} ignored, {self.deferred} deferred"
        )

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


class StripeBillingSource:
    """Keeps the bot's invoices in line with the Stripe Billing invoices of its customers."""

    def __init__(self, *, db: Database, clock: Clock, gateway: PaymentGateway, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._gateway = gateway
        self._tz = timezone

    def apply(self, invoice: BillingInvoice) -> str:
        """Bring the bot's copy in line with ``invoice``: ``created``, ``updated``, ``closed``,
        ``unchanged``, ``ignored`` (a draft, or not a customer of the bot) or ``deferred`` (a charge
        through the bot holds it: the next event or sync applies it)."""
        if invoice.status == "draft" or not invoice.customer_id:
            return "ignored"
        for attempt in range(2):
            try:
                with self._db.transaction() as session:
                    return self._apply(session, invoice)
            except ChargeUnderWay:
                return "deferred"
            except ClosedOtherwise:
                return "unchanged"
            except IntegrityError:
                if attempt:  # a concurrent event inserted the same invoice or contact first: once more
                    raise
        raise AssertionError("unreachable")

    def sync(self, since: date | None = None) -> SyncSummary:
        """Fetch the invoices of every customer of the bot (created on or after ``since``) and
        apply each: the repair after missed webhooks or downtime."""
        summary = SyncSummary()
        created_since = int(datetime.combine(since, time(), self._tz).timestamp()) if since else None
        with self._db.read() as session:
            customers = list(
                session.scalars(
                    select(AccountRecord.stripe_customer_id)
                    .where(AccountRecord.stripe_customer_id.is_not(None))
                    .order_by(AccountRecord.id)
                )
            )
        for customer in customers:
            assert customer is not None
            summary.customers += 1
            for invoice in self._gateway.list_invoices(customer, created_since=created_since):
                summary.count(self.apply(invoice))
        return summary

    def confirm(self, payment_id: int) -> None:
        """Right before a charge: read the payment's Stripe invoices again and apply them (one no
        longer open is closed here, which cancels the payment before it is sent). When Stripe does
        not answer, the last state received stands."""
        with self._db.read() as session:
            ids = list(
                session.scalars(
                    select(InvoiceRecord.stripe_invoice_id)
                    .join(PaymentInvoiceRecord, PaymentInvoiceRecord.invoice_id == InvoiceRecord.id)
                    .join(PaymentRecord, PaymentRecord.id == PaymentInvoiceRecord.payment_id)
                    .where(
                        PaymentInvoiceRecord.payment_id == payment_id,
                        InvoiceRecord.stripe_invoice_id.is_not(None),
                        PaymentRecord.status == "pending",
                        PaymentRecord.submitted_at.is_(None),
                    )
                )
            )
        for invoice_id in ids:
            assert invoice_id is not None
            try:
                fresh = self._gateway.retrieve_invoice(invoice_id)
            except PaymentProviderError as error:
                logger.warning("could not re-read Stripe invoice %s before charging: %s", invoice_id, error)
                continue
            if fresh.status != "open":
                self.apply(fresh)

    def closed_at_source(self, stripe_invoice_id: str) -> InvoiceClosedAtSource | None:
        """Why a Stripe invoice can no longer be paid, as Stripe says now; None if it can."""
        try:
            fresh = self._gateway.retrieve_invoice(stripe_invoice_id)
        except PaymentProviderError:
            return None
        if fresh.status == "open":
            return None
        how = {"paid": PAID_ELSEWHERE}.get(fresh.status, fresh.status)
        when = fresh.paid_at.astimezone(self._tz).date() if fresh.paid_at else None
        return InvoiceClosedAtSource(fresh.number, how, when)

    def refresh(self, stripe_invoice_id: str) -> None:
        """Read one Stripe invoice again and apply it (best effort: the next event or sync repairs)."""
        try:
            self.apply(self._gateway.retrieve_invoice(stripe_invoice_id))
        except PaymentProviderError as error:
            logger.warning("could not re-read Stripe invoice %s: %s", stripe_invoice_id, error)

    # -- one invoice ---------------------------------------------------------------------------

    def _apply(self, session: Session, invoice: BillingInvoice) -> str:
        account = session.scalars(
            select(AccountRecord).where(AccountRecord.stripe_customer_id == invoice.customer_id)
        ).first()
        if account is None:
            return "ignored"
        _add_contact(session, account.id, invoice)
        row = self._row(session, account.id, invoice)
        now = self._clock.now()
        if row is None:
            if invoice.status != "open":
                return "ignored"  # never known here as open: nothing to close
            session.add(InvoiceRecord(account_id=account.id, created_at=now, updated_at=now, **self._values(invoice)))
            return "created"
        if row.status != "open":
            return "unchanged"  # paid here, or closed already
        if invoice.status == "open":
            wanted = self._values(invoice)
            if all(getattr(row, key) == value for key, value in wanted.items()):
                return "unchanged"
            for key, value in wanted.items():
                setattr(row, key, value)
            row.updated_at = now
            return "updated"
        return self._close(session, row, invoice, now)

    def _close(self, session: Session, row: InvoiceRecord, invoice: BillingInvoice, now: datetime) -> str:
        if invoice.status == "paid":
            if invoice.payment_intent_id and session.scalar(
                select(PaymentRecord.id).where(PaymentRecord.stripe_payment_intent_id == invoice.payment_intent_id)
            ):
                return "unchanged"  # paid through the bot: its own settlement closes it
            paid_on = (invoice.paid_at or now).astimezone(self._tz).date()
            report = PaidElsewhere(
                amount_minor=invoice.amount_paid_minor or invoice.amount_due_minor,
                currency=invoice.currency,
                method="stripe",
                reference=invoice.id,
                paid_on=paid_on,
                source=STRIPE_SOURCE,
            )
            close_paid_elsewhere(session, row, report, now=now)
            return "closed"
        if invoice.status in ("void", UNCOLLECTIBLE):
            close_void(session, row, now=now, how=invoice.status)
            return "closed"
        return "ignored"

    def _row(self, session: Session, account_id: int, invoice: BillingInvoice) -> InvoiceRecord | None:
        # Taking the row's write lock first (a no-op UPDATE): SQLite locks only on the first write.
        session.execute(
            update(InvoiceRecord)
            .where(InvoiceRecord.stripe_invoice_id == invoice.id)
            .values(updated_at=InvoiceRecord.updated_at)
            .execution_options(synchronize_session=False)
        )
        row = session.scalars(
            select(InvoiceRecord).where(InvoiceRecord.stripe_invoice_id == invoice.id).with_for_update()
        ).first()
        if row is None:  # an invoice imported before Stripe Billing was the source: same number
            row = session.scalars(
                select(InvoiceRecord)
                .where(
                    InvoiceRecord.account_id == account_id,
                    InvoiceRecord.number == invoice.number,
                    InvoiceRecord.stripe_invoice_id.is_(None),
                )
                .with_for_update()
            ).first()
        return row

    def _values(self, invoice: BillingInvoice) -> dict[str, object]:
        issued = invoice.created.astimezone(self._tz).date()
        return {
            "number": invoice.number,
            "issued_on": issued,
            "due_on": max(invoice.due_on or issued, issued),
            "amount_due_minor": invoice.amount_due_minor,
            "amount_paid_minor": invoice.amount_paid_minor,
            "currency": invoice.currency,
            "status": "open",
            "description": invoice.description,
            "document_url": invoice.document_url,
            "stripe_invoice_id": invoice.id,
            "collection_method": invoice.collection_method,
        }


def _add_contact(session: Session, account_id: int, invoice: BillingInvoice) -> None:
    """The Stripe customer's e-mail is a billing contact of the account (others come from the import
    or the push API); added once, never removed here."""
    if not invoice.customer_email or not is_valid_email(invoice.customer_email):
        return
    email = normalize_email(invoice.customer_email)
    known = session.scalar(
        select(ContactRecord.id).where(ContactRecord.account_id == account_id, ContactRecord.email == email)
    )
    if known is None:
        session.add(ContactRecord(account_id=account_id, email=email, name=invoice.customer_name))
        session.flush()
