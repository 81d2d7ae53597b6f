"""Moving a payment to its outcome: the one place that marks invoices paid or releases them.

Every path that learns a PaymentIntent's fate (the direct answer, the webhook, reconcile, the
authentication page) goes through ``apply_intent``. It only moves a payment out of ``pending`` or
``requires_action``, so whichever path comes first wins and the others change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing_core.audit import add_audit_event
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord
from billing_core.payments.history import payment_view
from billing_core.payments.intents import Intent
from billing_core.payments.outbound_events import record_payment_event
from billing_core.payments.receipts import record_receipt
from billing_core.views import PaymentView

OPEN_STATUSES = ("pending", "requires_action")

_REASONS = {
    "card_declined": "The card was declined by the bank.",
    "generic_decline": "The card was declined by the bank.",
    "insufficient_funds": "The card has insufficient funds.",
    "expired_card": "The card has expired.",
    "incorrect_cvc": "The card's security code was not accepted.",
    "lost_card": "The card was declined by the bank.",
    "stolen_card": "The card was declined by the bank.",
    "processing_error": "The bank could not process the card. Please try again later.",
    "authentication_required": "The bank asked for authentication that was not completed.",
    "payment_intent_authentication_failure": "Authentication with the bank failed.",
    "card_not_on_account": "That card is no longer on this account.",
    "not_charged": "The payment could not be sent to the card processor; nothing was charged.",
    "expired_action": "Authentication was not completed in time; nothing was charged.",
    "provider_refused": "The card processor refused the payment request; nothing was charged.",
}


def failure_reason(code: str | None) -> str:
    """A sentence a person can read, never the processor's raw code alone."""
    return _REASONS.get(code or "", "The payment was not accepted by the card processor.")


@dataclass(frozen=True, slots=True)
class LateSuccess:
    """Stripe charged a payment we had marked failed: its invoices, and those paid again since."""

    invoices: tuple[str, ...]
    paid_again: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Settled:
    """What ``apply_intent`` did: the payment after it, and whether it changed."""

    view: PaymentView
    changed: bool
    account_name: str
    principal: str
    late: LateSuccess | None = None


def invoice_numbers(session: Session, payment_id: int) -> tuple[str, ...]:
    rows = session.scalars(
        select(InvoiceRecord.number)
        .join(PaymentInvoiceRecord, PaymentInvoiceRecord.invoice_id == InvoiceRecord.id)
        .where(PaymentInvoiceRecord.payment_id == payment_id)
        .order_by(InvoiceRecord.number)
    )
    return tuple(rows)


def view_of(session: Session, payment: PaymentRecord) -> PaymentView:
    account = session.get(AccountRecord, payment.account_id)
    assert account is not None
    return payment_view(account, payment, invoice_numbers(session, payment.id))


def release_invoices(session: Session, payment_id: int) -> None:
    session.execute(
        update(InvoiceRecord).where(InvoiceRecord.payment_lock_id == payment_id).values(payment_lock_id=None)
    )


def mark_failed(
    session: Session, payment: PaymentRecord, *, code: str | None, now: datetime, reason: str | None = None
) -> None:
    """Fail the payment and release its invoices; ``reason`` overrides the sentence for ``code``."""
    payment.status = "failed"
    payment.failure_reason = reason or failure_reason(code)
    payment.action_url = None
    payment.settled_at = now
    payment.updated_at = now
    release_invoices(session, payment.id)
    add_audit_event(
        session,
        at=now,
        actor=None,
        action="payment.failed",
        outcome="failed",
        account_id=payment.account_id,
        target=f"payment:{payment.id}",
        detail={"code": code, "payment_intent": payment.stripe_payment_intent_id},
    )
    record_payment_event(session, payment, now=now)


def mark_succeeded(session: Session, payment: PaymentRecord, *, now: datetime) -> None:
    payment.status = "succeeded"
    payment.failure_reason = None
    payment.action_url = None
    payment.settled_at = now
    payment.updated_at = now
    links = session.scalars(select(PaymentInvoiceRecord).where(PaymentInvoiceRecord.payment_id == payment.id))
    for link in links:
        invoice = session.get(InvoiceRecord, link.invoice_id)
        if invoice is None:
            continue
        invoice.amount_paid_minor += link.amount_minor
        if invoice.amount_paid_minor >= invoice.amount_due_minor and invoice.status == "open":
            invoice.status = "paid"
            invoice.paid_at = now
        if invoice.payment_lock_id == payment.id:
            invoice.payment_lock_id = None
        invoice.updated_at = now
    add_audit_event(
        session,
        at=now,
        actor=None,
        action="payment.succeeded",
        outcome="succeeded",
        account_id=payment.account_id,
        target=f"payment:{payment.id}",
        detail={
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            "payment_intent": payment.stripe_payment_intent_id,
        },
    )
    record_payment_event(session, payment, now=now)
    record_receipt(session, payment, invoice_numbers(session, payment.id), now=now)


def lock_payment(session: Session, payment_id: int) -> PaymentRecord:
    """The payment, re-read after taking its row's write lock.

    The no-op UPDATE comes first because SQLite only takes its write lock on the first write: a
    read before it could be stale and two settlers could both credit the invoices.
    """
    session.execute(
        update(PaymentRecord)
        .where(PaymentRecord.id == payment_id, PaymentRecord.status.in_(OPEN_STATUSES))
        .values(status=PaymentRecord.status)
        .execution_options(synchronize_session=False)
    )
    payment = session.get(PaymentRecord, payment_id, with_for_update=True, populate_existing=True)
    assert payment is not None
    return payment


def _same_amount(session: Session, payment: PaymentRecord, intent: Intent, *, now: datetime) -> bool:
    """Never settle on a PaymentIntent for another amount: audited, and left to a person."""
    if intent.amount_minor == payment.amount_minor and intent.currency == payment.currency:
        return True
    add_audit_event(
        session,
        at=now,
        actor=None,
        action="payment.mismatch",
        outcome="ignored",
        account_id=payment.account_id,
        target=f"payment:{payment.id}",
        detail={"payment_intent": intent.id, "amount_minor": intent.amount_minor},
    )
    return False


def awaits_customer(intent: Intent) -> bool:
    """Whether the intent waits for the cardholder: the bank asked for 3-D Secure on session
    (``requires_action``), or Stripe refused an off-session charge with ``authentication_required``
    and the customer must confirm it on session (``requires_payment_method``)."""
    return intent.status == "requires_action" or (
        intent.status == "requires_payment_method" and intent.failure_code == "authentication_required"
    )


def apply_intent(
    session: Session, payment: PaymentRecord, intent: Intent, *, now: datetime, action_url: str | None
) -> bool:
    """Bring ``payment`` in line with ``intent``. True when its status changed."""
    if payment.status not in OPEN_STATUSES:
        return False
    if not _same_amount(session, payment, intent, now=now):
        return False
    if payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent.id
    before = payment.status
    if intent.status == "succeeded":
        payment.receipt_url = intent.receipt_url or payment.receipt_url
        mark_succeeded(session, payment, now=now)
    elif awaits_customer(intent):
        payment.status = "requires_action"
        payment.action_url = action_url
        payment.updated_at = now
    elif intent.status in ("requires_payment_method", "canceled"):
        code = intent.failure_code or ("expired_action" if intent.status == "canceled" else "card_declined")
        mark_failed(session, payment, code=code, now=now)
    # processing / requires_confirmation: still under way; stays as it is.
    return payment.status != before


def apply_late_success(
    session: Session, payment: PaymentRecord, intent: Intent, *, now: datetime
) -> LateSuccess | None:
    """A success Stripe reports for a payment already marked failed (reconcile gave up on it, say):
    the customer was charged, so the payment is settled as succeeded and its invoices credited.
    Invoices paid again in between (or held by another payment) are returned: a double payment for
    billing staff to refund. None when this is no such late success."""
    if payment.status != "failed" or intent.status != "succeeded":
        return None
    if payment.stripe_payment_intent_id not in (None, intent.id):
        return None
    if not _same_amount(session, payment, intent, now=now):
        return None
    payment.stripe_payment_intent_id = intent.id
    invoices = list(
        session.scalars(
            select(InvoiceRecord)
            .join(PaymentInvoiceRecord, PaymentInvoiceRecord.invoice_id == InvoiceRecord.id)
            .where(PaymentInvoiceRecord.payment_id == payment.id)
            .order_by(InvoiceRecord.number)
        )
    )
    paid_again = tuple(
        i.number
        for i in invoices
        if i.status == "paid" or i.amount_paid_minor >= i.amount_due_minor or i.payment_lock_id is not None
    )
    payment.receipt_url = intent.receipt_url or payment.receipt_url
    mark_succeeded(session, payment, now=now)
    add_audit_event(
        session,
        at=now,
        actor=None,
        action="payment.late_success",
        outcome="succeeded",
        account_id=payment.account_id,
        target=f"payment:{payment.id}",
        detail={"payment_intent": intent.id, "paid_again": list(paid_again)},
    )
    return LateSuccess(invoices=tuple(i.number for i in invoices), paid_again=paid_again)
