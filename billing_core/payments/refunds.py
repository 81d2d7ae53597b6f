"""Refunds and disputes Stripe reports after a payment succeeded (``charge.refunded``,
``charge.dispute.*``), applied once and in any order: the amounts are Stripe's totals, not deltas.

A full refund takes the payment's amounts back off its invoices (they are open again); a partial
one is only recorded. A new dispute pauses autopay on the account and is told to its contacts and
to billing staff (through the ``on_dispute`` port). Each change is audited and sent as an outbound
event: ``payment.refunded``, ``dispute.created``, ``dispute.closed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord
from billing_core.notifications import Notifier, PaymentFollowUp
from billing_core.outbound.events import WEBHOOK, record_event
from billing_core.payments.export import export_row
from billing_core.payments.history import payment_view
from billing_core.payments.settlement import invoice_numbers
from billing_core.views import PaymentView

DISPUTE_CLOSED = ("won", "lost", "warning_closed")
# Payments started by the bot itself (autopay) carry a principal of this form, not a person's.
SYSTEM_PREFIX = "system:"


@dataclass(frozen=True, slots=True)
class Disputed:
    """A new dispute, for the port that pauses autopay and tells people."""

    account_external_id: str
    account_name: str
    payment: PaymentView
    reason: str


class RefundsAndDisputes:
    """Applies Stripe's refund and dispute events to our payments."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        notifier: Notifier | None = None,
        on_dispute: Callable[[Disputed], None] | None = None,
        on_unattended_refund: Callable[[PaymentView], None] | None = None,
    ) -> None:
        """``on_unattended_refund``: a refund of a payment no person in Slack made (autopay's), for
        the port that tells the account's contacts instead of a payer."""
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._on_dispute = on_dispute
        self._on_unattended_refund = on_unattended_refund

    def _tell_payer(self, told: tuple[str, str, PaymentView] | None) -> None:
        """The person who paid hears of it by DM, in the thread of the payment's receipt DM."""
        if told is not None and self._notifier is not None:
            principal, account_name, view = told
            self._notifier.tell_principal(principal, PaymentFollowUp(account_name, view))

    def _tell_of_refund(self, told: tuple[str, str, PaymentView]) -> None:
        """A refund: its payer by DM; the contacts when no person paid (autopay: ``system:…``)."""
        principal, _, view = told
        if principal.startswith(SYSTEM_PREFIX):
            if self._on_unattended_refund is not None:
                self._on_unattended_refund(view)
            return
        self._tell_payer(told)

    def refunded(self, charge: dict[str, Any]) -> bool:
        """``charge.refunded``: the charge's ``amount_refunded`` is the total so far. False when the
        charge is not one of our succeeded payments, or nothing new was refunded."""
        amount_refunded = charge.get("amount_refunded")
        if not isinstance(amount_refunded, int) or isinstance(amount_refunded, bool) or amount_refunded <= 0:
            return False
        now = self._clock.now()
        with self._db.transaction() as session:
            payment = _payment_of(session, charge.get("payment_intent"))
            if payment is None or payment.status != "succeeded" or amount_refunded <= payment.refunded_minor:
                return False
            was_full = payment.refunded_minor >= payment.amount_minor
            payment.refunded_minor = min(amount_refunded, payment.amount_minor)
            payment.updated_at = now
            full = payment.refunded_minor >= payment.amount_minor
            if full and not was_full:
                _reopen_invoices(session, payment, now)
            add_audit_event(
                session,
                at=now,
                actor=None,
                action="payment.refunded",
                outcome="refunded" if full else "partial",
                account_id=payment.account_id,
                target=f"payment:{payment.id}",
                detail={"amount_refunded": payment.refunded_minor, "payment_intent": payment.stripe_payment_intent_id},
            )
            _event(session, payment, "payment.refunded", now, amount_refunded=payment.refunded_minor)
            told = _payer(session, payment)
        self._tell_of_refund(told)
        return True

    def dispute(self, event_type: str, dispute: dict[str, Any]) -> bool:
        """``charge.dispute.created`` / ``.updated`` / ``.closed``: the dispute's status is kept on
        the payment (a won dispute brings it back to succeeded). False when not ours."""
        status = dispute.get("status")
        if not isinstance(status, str) or not status:
            return False
        now = self._clock.now()
        with self._db.transaction() as session:
            payment = _payment_of(session, dispute.get("payment_intent"))
            if payment is None or payment.status != "succeeded":
                return False
            previous = payment.dispute_status
            new, closed = previous is None, status in DISPUTE_CLOSED
            if previous == status or (previous in DISPUTE_CLOSED and not closed):
                return False  # a replay, or news older than the dispute's end
            payment.dispute_status = status[:32]
            payment.updated_at = now
            add_audit_event(
                session,
                at=now,
                actor=None,
                action="payment.dispute_closed" if closed else "payment.disputed",
                outcome=status[:32],
                account_id=payment.account_id,
                target=f"payment:{payment.id}",
                detail={"dispute": str(dispute.get("id") or ""), "reason": str(dispute.get("reason") or "")},
            )
            extra = {"dispute_status": status, "dispute_reason": str(dispute.get("reason") or "")}
            if new:
                _event(session, payment, "dispute.created", now, **extra)
            if closed:
                _event(session, payment, "dispute.closed", now, **extra)
            account = session.get(AccountRecord, payment.account_id)
            assert account is not None
            told = Disputed(
                account.external_id,
                account.name,
                payment_view(account, payment, invoice_numbers(session, payment.id)),
                str(dispute.get("reason") or "unspecified"),
            )
            payer = _payer(session, payment) if new else None  # the dispute's end is staff's news
        self._tell_payer(payer)
        if new and self._on_dispute is not None:
            self._on_dispute(told)
        return True


def _payment_of(session: Session, intent_id: object) -> PaymentRecord | None:
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id")
    if not isinstance(intent_id, str) or not intent_id:
        return None
    found = session.scalar(select(PaymentRecord.id).where(PaymentRecord.stripe_payment_intent_id == intent_id))
    return None if found is None else session.get(PaymentRecord, found, with_for_update=True)


def _payer(session: Session, payment: PaymentRecord) -> tuple[str, str, PaymentView]:
    account = session.get(AccountRecord, payment.account_id)
    assert account is not None
    return (
        payment.started_by_principal,
        account.name,
        payment_view(account, payment, invoice_numbers(session, payment.id)),
    )


def _reopen_invoices(session: Session, payment: PaymentRecord, now: datetime) -> None:
    """A full refund: the payment's amounts come off its invoices, which are open again."""
    links = session.scalars(select(PaymentInvoiceRecord).where(PaymentInvoiceRecord.payment_id == payment.id))
    for link in links:
        invoice = session.get(InvoiceRecord, link.invoice_id, with_for_update=True)
        if invoice is None:
            continue
        invoice.amount_paid_minor = max(0, invoice.amount_paid_minor - link.amount_minor)
        if invoice.status == "paid" and invoice.amount_paid_minor < invoice.amount_due_minor:
            invoice.status = "open"
            invoice.paid_at = None
        invoice.updated_at = now


def _event(session: Session, payment: PaymentRecord, kind: str, now: datetime, **extra: object) -> None:
    record_event(
        session,
        channel=WEBHOOK,
        type=kind,
        subject=f"payment:{payment.id}",
        data={**export_row(session, payment).as_dict(), **extra},
        now=now,
    )
