"""The one Stripe call that may charge a payment, made at most once per payment."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing_core.accounts.invoice_state import closed_state
from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord
from billing_core.errors import (
    InvoiceClosedAtSource,
    PaymentMethodNotFound,
    PaymentNotFound,
    PaymentProviderError,
    PaymentProviderUnavailable,
)
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.intents import CardDeclined, Intent
from billing_core.payments.ports import PaymentGateway
from billing_core.payments.settlement import (
    apply_intent,
    awaits_customer,
    invoice_numbers,
    lock_payment,
    mark_failed,
    view_of,
)
from billing_core.views import PaymentView

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """The one Stripe call of a payment, exactly as it is sent, so that a replay with the same
    idempotency key carries the same parameters (Stripe refuses a key reused with others)."""

    payment_id: int
    key: str
    amount_minor: int
    currency: str
    customer_id: str | None
    payment_method_id: str | None
    account_external_id: str
    invoices: tuple[str, ...]
    off_session: bool  # the bot's own charge (autopay), not a person's click
    # Stripe Billing (INVOICE_SOURCE=stripe): the Stripe invoices this payment settles.
    stripe_invoices: tuple[str, ...] = ()

    @property
    def pays_invoice(self) -> bool:
        """One invoice, and it lives in Stripe Billing: pay that Stripe invoice itself, so Stripe
        marks it paid and never collects it again."""
        return len(self.invoices) == 1 and len(self.stripe_invoices) == 1

    def send(self, gateway: PaymentGateway) -> Intent:
        """Make (or, with the same key, replay) the call; raises as ``PaymentGateway.charge`` does."""
        if self.pays_invoice:
            return gateway.pay_invoice(
                self.stripe_invoices[0],
                payment_method_id=self.payment_method_id or "",
                off_session=self.off_session,
                idempotency_key=self.key,
            )
        return gateway.charge(
            amount_minor=self.amount_minor,
            currency=self.currency,
            customer_id=self.customer_id or "",
            payment_method_id=self.payment_method_id or "",
            metadata={
                "billing_payment_id": str(self.payment_id),
                "billing_payment_key": self.key,
                "billing_account": self.account_external_id,
                "billing_invoices": ",".join(self.invoices)[:500],
            },
            idempotency_key=self.key,
            off_session=self.off_session,
            description=f"{self.account_external_id}: {', '.join(self.invoices) or 'balance'}"[:500],
            statement_descriptor_suffix=statement_suffix(self.invoices),
        )


def statement_suffix(invoices: tuple[str, ...]) -> str:
    """What the card statement shows after the account's prefix: the first invoice number (and how
    many more). Stripe allows 22 characters for prefix and suffix together, at least one letter, and
    none of ``< > \\ ' " *``: ten characters leave room for any prefix."""
    number = invoices[0] if invoices else ""
    first = "".join(ch for ch in number if ch.isascii() and ch.isprintable() and ch not in "<>\\'\"*")
    text = first[:10] if len(invoices) <= 1 else f"{first[:7]} +{min(len(invoices) - 1, 9)}"
    return text if any(ch.isalpha() for ch in text) else f"INV {text}"[:10]


def charge_request(session: Session, payment: PaymentRecord) -> ChargeRequest:
    """The charge ``payment`` sends (or sent) to Stripe."""
    account = session.get(AccountRecord, payment.account_id)
    assert account is not None
    return ChargeRequest(
        payment_id=payment.id,
        key=payment.idempotency_key,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        customer_id=account.stripe_customer_id,
        payment_method_id=payment.stripe_payment_method_id,
        account_external_id=account.external_id,
        invoices=invoice_numbers(session, payment.id),
        off_session=payment.source == "autopay",
        stripe_invoices=_stripe_invoices(session, payment.id),
    )


class SourceCheck(Protocol):
    """Where invoices live, asked right before a charge (``accounts.stripe_billing``)."""

    def confirm(self, payment_id: int) -> None: ...

    def closed_at_source(self, stripe_invoice_id: str) -> InvoiceClosedAtSource | None: ...

    def refresh(self, stripe_invoice_id: str) -> None: ...


class PaymentExecutor:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        gateway: PaymentGateway,
        links: AuthLinks,
        source: SourceCheck | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._gateway = gateway
        self._links = links
        self._source = source

    def execute(self, payment_id: int) -> PaymentView | None:
        """The payment after our call, or None when it was already submitted (look it up instead)."""
        if self._source is not None:
            self._source.confirm(payment_id)  # may close an invoice, which cancels this payment
        charge, view = self._submit(payment_id)
        if charge is None:
            return view
        try:
            if not self._card_is_on_account(charge):
                return self._finish(charge.payment_id, failure="card_not_on_account")
        except PaymentProviderError:
            return self._finish(charge.payment_id, failure="not_charged")  # nothing was sent yet
        try:
            intent = charge.send(self._gateway)
        except CardDeclined as declined:
            return self._finish(charge.payment_id, intent=declined.intent, failure=declined.code)
        except PaymentProviderUnavailable as error:
            # Outcome unknown: the payment stays pending and submitted; reconcile or the webhook
            # settles it. Re-sending could charge twice.
            return self._finish(charge.payment_id, unknown=error)
        except PaymentProviderError:
            reason = self._why_refused(charge)
            view = self._finish(charge.payment_id, failure="provider_refused", reason=reason)
            if reason is not None and self._source is not None:
                self._source.refresh(charge.stripe_invoices[0])  # released now: close it here too
            return view
        if charge.stripe_invoices and not charge.pays_invoice and intent.status == "succeeded":
            self._paid_out_of_band(charge.stripe_invoices)
        return self._finish(charge.payment_id, intent=intent)

    def _why_refused(self, charge: ChargeRequest) -> str | None:
        """Stripe refused to pay its invoice: most often it was paid or voided there a moment ago.
        Then the payer reads that ("STRIPE-0001 was paid on 3 Dec outside Slack; nothing was charged.")."""
        if not charge.pays_invoice or self._source is None:
            return None
        closed = self._source.closed_at_source(charge.stripe_invoices[0])
        return f"{closed.sentence()}; nothing was charged." if closed is not None else None

    def _paid_out_of_band(self, invoice_ids: tuple[str, ...]) -> None:
        """A balance of several invoices was charged as one PaymentIntent: tell Stripe each Stripe
        invoice is paid (``paid_out_of_band``) so it never collects them again. Best effort: a
        failure is logged for an operator (the invoices are paid here either way)."""
        for invoice_id in invoice_ids:
            try:
                self._gateway.mark_invoice_paid(invoice_id)
            except PaymentProviderError as error:
                logger.error(
                    "Stripe invoice %s was paid through the bot but is still open in Stripe: %s", invoice_id, error
                )

    def _submit(self, payment_id: int) -> tuple[ChargeRequest | None, PaymentView | None]:
        now = self._clock.now()
        with self._db.transaction() as session:
            payment = session.get(PaymentRecord, payment_id)
            if payment is None:
                raise PaymentNotFound(payment_id)
            if payment.status != "pending":
                return None, view_of(session, payment)
            claimed = session.execute(
                update(PaymentRecord)
                .where(
                    PaymentRecord.id == payment_id,
                    PaymentRecord.submitted_at.is_(None),
                    PaymentRecord.status == "pending",
                )
                .values(submitted_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None, None
            closed = _closed_invoice(session, payment_id)
            if closed is not None:
                # Right before the charge, the invoices' last state from their source says they
                # are paid, void or written off: no charge, and the payer reads why.
                session.refresh(payment)
                mark_failed(
                    session,
                    payment,
                    code="closed_at_source",
                    now=now,
                    reason=f"{closed.sentence()}; nothing was charged.",
                )
                return None, view_of(session, payment)
            return charge_request(session, payment), None

    def _card_is_on_account(self, charge: ChargeRequest) -> bool:
        """Stripe (and above all localstripe) will happily charge another customer's card."""
        if not charge.customer_id or not charge.payment_method_id:
            return False
        try:
            card = self._gateway.retrieve_card(charge.payment_method_id)
        except PaymentMethodNotFound:
            return False
        return card.customer_id == charge.customer_id

    def _finish(
        self,
        payment_id: int,
        *,
        intent: Intent | None = None,
        failure: str | None = None,
        unknown: PaymentProviderError | None = None,
        reason: str | None = None,
    ) -> PaymentView:
        now = self._clock.now()
        with self._db.transaction() as session:
            payment = lock_payment(session, payment_id)
            if unknown is not None:
                add_audit_event(
                    session,
                    at=now,
                    actor=None,
                    action="payment.unknown",
                    outcome="pending",
                    account_id=payment.account_id,
                    target=f"payment:{payment.id}",
                    detail={"error": str(unknown), "request_id": unknown.request_id},
                )
            elif intent is not None and (failure is None or awaits_customer(intent)):
                apply_intent(session, payment, intent, now=now, action_url=self._links.url_for(payment.id))
            elif payment.status in ("pending", "requires_action"):
                if intent is not None and payment.stripe_payment_intent_id is None:
                    payment.stripe_payment_intent_id = intent.id
                mark_failed(session, payment, code=failure, now=now, reason=reason)
            return view_of(session, payment)


def _stripe_invoices(session: Session, payment_id: int) -> tuple[str, ...]:
    rows = session.scalars(
        select(InvoiceRecord.stripe_invoice_id)
        .join(PaymentInvoiceRecord, PaymentInvoiceRecord.invoice_id == InvoiceRecord.id)
        .where(PaymentInvoiceRecord.payment_id == payment_id, InvoiceRecord.stripe_invoice_id.is_not(None))
        .order_by(InvoiceRecord.number)
    )
    return tuple(row for row in rows if row)


def _closed_invoice(session: Session, payment_id: int) -> InvoiceClosedAtSource | None:
    """The first of the payment's invoices that is no longer open at its source, if any."""
    invoices = session.scalars(
        select(InvoiceRecord)
        .join(PaymentInvoiceRecord, PaymentInvoiceRecord.invoice_id == InvoiceRecord.id)
        .where(PaymentInvoiceRecord.payment_id == payment_id)
        .order_by(InvoiceRecord.number)
        .execution_options(populate_existing=True)
    )
    for invoice in invoices:
        closed = closed_state(session, invoice)
        if closed is None and invoice.status != "open":
            closed = InvoiceClosedAtSource(
                invoice.number, "void" if invoice.status == "void" else "paid_elsewhere", None
            )
        if closed is not None:
            return closed
    return None
