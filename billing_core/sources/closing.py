"""Closing an invoice from where it lives: reported paid outside Slack, voided, written off.

Used by the push API, ``import --full`` and Stripe Billing. An invoice held by a payment through
the bot is closed only when that payment was not sent to the card processor yet: the payment is
cancelled here, with the same compare-and-set on ``submitted_at`` that the charge itself takes
(``payments/execution.py``), so exactly one of the two happens. Once sent, closing is refused
(``ChargeUnderWay``) until the charge settles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from billing_core.accounts.invoice_state import PAID_ELSEWHERE, VOID
from billing_core.audit import add_audit_event
from billing_core.db.tables import AccountRecord, InvoicePaidElsewhereRecord, InvoiceRecord, PaymentRecord
from billing_core.errors import BillingError, ChargeUnderWay, InvoiceClosedAtSource
from billing_core.outbound.events import WEBHOOK, record_event
from billing_core.payments.settlement import mark_failed


@dataclass(frozen=True, slots=True)
class PaidElsewhere:
    """What the vendor reports: the invoice was paid outside Slack."""

    amount_minor: int
    currency: str
    method: str
    reference: str
    paid_on: date
    source: str  # api / import / stripe


class ClosedOtherwise(BillingError):
    """The invoice is already closed in another way than asked (``how``); nothing changed."""

    def __init__(self, number: str, how: str) -> None:
        super().__init__(f"{number} is already {how}")
        self.number = number
        self.how = how


def free_for_closing(session: Session, invoice: InvoiceRecord, *, now: datetime, reason: str) -> bool:
    """True when nothing the bot started holds the invoice any more (cancelling a payment that was
    not sent yet, with ``reason`` as its failure); False while a charge is under way."""
    lock = invoice.payment_lock_id
    if lock is None:
        return True
    cancelled = session.execute(
        update(PaymentRecord)
        .where(PaymentRecord.id == lock, PaymentRecord.submitted_at.is_(None), PaymentRecord.status == "pending")
        .values(submitted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if cancelled != 1:
        return False
    payment = session.get(PaymentRecord, lock, populate_existing=True)
    assert payment is not None
    mark_failed(session, payment, code="closed_at_source", now=now, reason=reason)
    session.refresh(invoice)
    return True


def close_paid_elsewhere(session: Session, invoice: InvoiceRecord, report: PaidElsewhere, *, now: datetime) -> bool:
    """Close ``invoice`` as paid outside Slack. True when it changed, False when the same report was
    already applied. Raises ``ClosedOtherwise`` or ``ChargeUnderWay``; nothing changes then."""
    if invoice.closed_as == PAID_ELSEWHERE:
        record = session.get(InvoicePaidElsewhereRecord, invoice.id)
        if record is not None and _same(record, report):
            return False
        raise ClosedOtherwise(invoice.number, "reported paid outside Slack with other details")
    _require_open(invoice)
    sentence = InvoiceClosedAtSource(invoice.number, PAID_ELSEWHERE, report.paid_on).sentence()
    if not free_for_closing(session, invoice, now=now, reason=f"{sentence}; nothing was charged."):
        raise ChargeUnderWay(invoice.number)
    invoice.status = "paid"
    invoice.closed_as = PAID_ELSEWHERE
    invoice.amount_paid_minor = invoice.amount_due_minor
    invoice.paid_at = now
    invoice.updated_at = now
    session.add(
        InvoicePaidElsewhereRecord(
            invoice_id=invoice.id,
            amount_minor=report.amount_minor,
            currency=report.currency,
            method=report.method,
            reference=report.reference,
            paid_on=report.paid_on,
            source=report.source,
            reported_at=now,
        )
    )
    account = session.get(AccountRecord, invoice.account_id)
    assert account is not None
    add_audit_event(
        session,
        at=now,
        actor=None,
        action="invoice.paid_elsewhere",
        outcome="closed",
        account_id=account.id,
        target=f"invoice:{invoice.number}",
        detail={"amount_minor": report.amount_minor, "method": report.method, "source": report.source},
    )
    record_event(
        session,
        channel=WEBHOOK,
        type="invoice.paid_elsewhere",
        subject=f"invoice:{invoice.id}",
        data={
            "account_id": account.external_id,
            "invoice": invoice.number,
            "amount": report.amount_minor,
            "currency": report.currency,
            "method": report.method,
            "reference": report.reference,
            "paid_on": report.paid_on.isoformat(),
        },
        now=now,
    )
    return True


def close_void(session: Session, invoice: InvoiceRecord, *, now: datetime, how: str = VOID) -> bool:
    """Void (or write off, ``how=uncollectible``) ``invoice``. True when it changed; False when it was
    already closed so. Raises ``ClosedOtherwise`` or ``ChargeUnderWay``; nothing changes then."""
    if invoice.status == "void" and (invoice.closed_as or VOID) == how:
        return False
    _require_open(invoice)
    sentence = InvoiceClosedAtSource(invoice.number, how, now.date()).sentence()
    if not free_for_closing(session, invoice, now=now, reason=f"{sentence}; nothing was charged."):
        raise ChargeUnderWay(invoice.number)
    invoice.status = "void"
    invoice.closed_as = how
    invoice.updated_at = now
    add_audit_event(
        session,
        at=now,
        actor=None,
        action=f"invoice.{how}",
        outcome="closed",
        account_id=invoice.account_id,
        target=f"invoice:{invoice.number}",
    )
    return True


def _require_open(invoice: InvoiceRecord) -> None:
    if invoice.status == "paid":
        raise ClosedOtherwise(invoice.number, "paid")
    if invoice.status == "void":
        raise ClosedOtherwise(invoice.number, invoice.closed_as or VOID)


def _same(record: InvoicePaidElsewhereRecord, report: PaidElsewhere) -> bool:
    return (record.amount_minor, record.currency, record.method, record.reference, record.paid_on) == (
        report.amount_minor,
        report.currency,
        report.method,
        report.reference,
        report.paid_on,
    )
