"""Settling payments whose outcome we do not know yet, by asking Stripe.

Used by ``billing-bot payments reconcile`` (and the scheduler), by the webhook, by the
authentication page, and by ``execute`` when a payment was already submitted. It asks for the
payment's own PaymentIntent: the one we know by id, or (the crash case: Stripe charged, our
database never heard) the create replayed with the stored idempotency key within Stripe's window,
then the customer's intents carrying our payment key. A success that arrives for a payment already
failed is settled too, and billing staff are told (a double payment when the invoice was paid
again in between).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord
from billing_core.errors import PaymentNotFound, PaymentProviderError
from billing_core.notifications import Notifier, PaymentSettled
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.execution import ChargeRequest, charge_request
from billing_core.payments.intents import CardDeclined, Intent
from billing_core.payments.ports import PaymentGateway
from billing_core.payments.settlement import (
    OPEN_STATUSES,
    LateSuccess,
    Settled,
    apply_intent,
    apply_late_success,
    awaits_customer,
    lock_payment,
    mark_failed,
    view_of,
)
from billing_core.views import PaymentView

# Stripe keeps an idempotency key's first answer for at least 24 hours; replay well inside that.
REPLAY_WINDOW = timedelta(hours=23)
# Not before the first request has surely ended (the gateway's read timeout is 20 s).
REPLAY_AFTER = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ReconcileSummary:
    checked: int = 0
    succeeded: int = 0
    failed: int = 0
    requires_action: int = 0
    still_pending: int = 0
    errors: int = 0
    # Refund and dispute events no webhook had brought, applied by this pass (``webhooks.catch_up``).
    refunds_and_disputes: int = 0

    def __str__(self) -> str:
        return (
            f"checked {self.checked}, succeeded {self.succeeded}, failed {self.failed}, "
            f"requires action {self.requires_action}, still pending {self.still_pending}, errors {self.errors}, "
            f"refunds and disputes caught up {self.refunds_and_disputes}"
        )


class Reconciler:
    """Brings our payments in line with Stripe and tells the payer when one finished later."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        gateway: PaymentGateway,
        notifier: Notifier,
        links: AuthLinks,
        grace: timedelta,
        action_expiry: timedelta,
        alert_staff: Callable[[str, str], object] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._gateway = gateway
        self._notifier = notifier
        self._links = links
        self._grace = grace
        self._action_expiry = action_expiry
        # Tells billing staff (account external id, message).
        self._alert_staff = alert_staff

    def run(self) -> ReconcileSummary:
        """Settle every open payment; one Stripe failure does not stop the others."""
        with self._db.read() as session:
            ids = list(
                session.scalars(
                    select(PaymentRecord.id).where(PaymentRecord.status.in_(OPEN_STATUSES)).order_by(PaymentRecord.id)
                )
            )
        counts = {"succeeded": 0, "failed": 0, "requires_action": 0, "pending": 0}
        errors = 0
        for payment_id in ids:
            try:
                settled = self.settle(payment_id)
            except PaymentProviderError:
                errors += 1
                continue
            counts[settled.view.status] = counts.get(settled.view.status, 0) + 1
        return ReconcileSummary(
            checked=len(ids),
            succeeded=counts["succeeded"],
            failed=counts["failed"],
            requires_action=counts["requires_action"],
            still_pending=counts["pending"],
            errors=errors,
        )

    def settle(self, payment_id: int, *, intent: Intent | None = None, notify: bool = True) -> Settled:
        """Look the payment up at Stripe (unless ``intent`` is given) and apply what it says."""
        with self._db.read() as session:
            payment = session.get(PaymentRecord, payment_id)
            if payment is None:
                raise PaymentNotFound(payment_id)
            status, intent_id, key = payment.status, payment.stripe_payment_intent_id, payment.idempotency_key
            submitted_at, updated_at = payment.submitted_at, payment.updated_at
            created_at = payment.created_at
        now = self._clock.now()
        if status not in OPEN_STATUSES:
            return self._apply(payment_id, None, None, notify=notify)
        if intent is None:
            if intent_id is not None:
                intent = self._gateway.retrieve_intent(intent_id)
                if awaits_customer(intent) and now - updated_at > self._action_expiry:
                    intent = self._gateway.cancel_intent(intent.id)
            elif submitted_at is not None:
                try:
                    intent = self._own_intent(payment_id, key, submitted_at, now)
                except CardDeclined as declined:
                    if declined.intent is None:
                        return self._apply(payment_id, None, declined.code, submitted_at, notify=notify)
                    intent = self._gateway.retrieve_intent(declined.intent.id)
        if intent is None:
            # Never sent, or sent and not found: after the grace period nothing was charged.
            stale = now - (submitted_at or created_at) > self._grace
            return self._apply(payment_id, None, "not_charged" if stale else None, submitted_at, notify=notify)
        return self._apply(payment_id, intent, None, notify=notify)

    def _invoice_intent(self, payment_id: int) -> Intent | None:
        """A payment that paid one Stripe Billing invoice itself: the PaymentIntent Stripe made for
        it carries none of our metadata, so it is found through the invoice."""
        with self._db.read() as session:
            invoices = list(
                session.scalars(
                    select(InvoiceRecord.stripe_invoice_id)
                    .join(PaymentInvoiceRecord, PaymentInvoiceRecord.invoice_id == InvoiceRecord.id)
                    .where(PaymentInvoiceRecord.payment_id == payment_id)
                )
            )
        if len(invoices) != 1 or invoices[0] is None:
            return None
        found = self._gateway.retrieve_invoice(invoices[0]).payment_intent_id
        return self._gateway.retrieve_intent(found) if found else None

    def _own_intent(self, payment_id: int, key: str, submitted_at: datetime, now: datetime) -> Intent | None:
        """The payment's own PaymentIntent, when its id never reached our database.

        In the first minute (the first request may still be under way) the customer's intents are
        only looked through for our payment key. Then, within Stripe's idempotency window, the
        create is replayed with the stored key and the same parameters: Stripe answers with the
        first request's result (the intent, or its 402), and if the first request never arrived
        this is that request, made once. After the window the customer's intents are searched again.
        """
        with self._db.read() as session:
            payment = session.get(PaymentRecord, payment_id)
            if payment is None:
                raise PaymentNotFound(payment_id)
            request = charge_request(session, payment)
        if now - submitted_at < REPLAY_AFTER:
            # The first request may still be under way: only look, never send.
            return self._look_up(request, key)
        if now - submitted_at < REPLAY_WINDOW:
            replayed = request.send(self._gateway)
            # The saved answer is the first one: how the intent stands now is asked separately.
            return self._gateway.retrieve_intent(replayed.id) if replayed.status != "succeeded" else replayed
        return self._look_up(request, key)

    def _look_up(self, request: ChargeRequest, key: str) -> Intent | None:
        if request.pays_invoice:  # Stripe's own intent for its invoice carries none of our metadata
            return self._invoice_intent(request.payment_id)
        return self._gateway.find_intent(key, customer_id=request.customer_id)

    def settle_intent(self, intent: Intent) -> Settled | None:
        """For the webhook: apply an intent to the payment it belongs to, if it is one of ours."""
        key = intent.metadata.get("billing_payment_key")
        with self._db.read() as session:
            conditions = [PaymentRecord.stripe_payment_intent_id == intent.id]
            if key:
                conditions.append(PaymentRecord.idempotency_key == key)
            payment_id = session.scalar(select(PaymentRecord.id).where(or_(*conditions)))
        if payment_id is None:
            return None
        if intent.status == "succeeded" and intent.receipt_url is None:
            # An event's ``latest_charge`` is only an id: read the intent again with its charge
            # expanded for the receipt link. Without it the payment still settles.
            with contextlib.suppress(PaymentProviderError):
                fresh = self._gateway.retrieve_intent(intent.id)
                intent = fresh if fresh.status == "succeeded" else intent
        return self._apply(payment_id, intent, None)

    def _apply(
        self,
        payment_id: int,
        intent: Intent | None,
        failure: str | None,
        submitted_at: datetime | None = None,
        *,
        notify: bool = True,
    ) -> Settled:
        now = self._clock.now()
        with self._db.transaction() as session:
            payment = lock_payment(session, payment_id)
            changed = False
            late = None
            if intent is not None and payment.status == "failed":
                late = apply_late_success(session, payment, intent, now=now)
                changed = late is not None
            elif intent is not None:
                changed = apply_intent(session, payment, intent, now=now, action_url=self._links.url_for(payment.id))
            elif failure is not None and payment.status in OPEN_STATUSES and payment.submitted_at == submitted_at:
                # Only if no ``execute`` claimed the Stripe call since we looked.
                mark_failed(session, payment, code=failure, now=now)
                changed = True
            account = session.get(AccountRecord, payment.account_id)
            assert account is not None
            settled = Settled(
                view=view_of(session, payment),
                changed=changed,
                account_name=account.name,
                principal=payment.started_by_principal,
                late=late,
            )
        if notify and settled.changed and settled.view.status in ("succeeded", "failed"):
            self._notifier.tell_principal(settled.principal, PaymentSettled(settled.account_name, settled.view))
        if settled.late is not None and self._alert_staff is not None:
            self._alert_staff(settled.view.account_external_id, late_success_message(settled.view, settled.late))
        return settled


def late_success_message(payment: PaymentView, late: LateSuccess) -> str:
    """What billing staff are told about a success that arrived after the payment was failed."""
    text = (
        f"Payment #{payment.id} of {payment.amount.format()} for {', '.join(late.invoices) or '-'} had been marked "
        f"failed, but Stripe reports it succeeded (PaymentIntent {payment.stripe_payment_intent_id}). "
        "It is now settled as paid."
    )
    if late.paid_again:
        text += (
            f" {', '.join(late.paid_again)} had been paid again in between: this is a DOUBLE PAYMENT. "
            "Refund one of the two payments in the Stripe Dashboard."
        )
    return text
