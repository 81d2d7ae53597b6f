"""``POST /stripe/webhook``: verified Stripe events, each applied once.

Each event id is stored; one already processed is acknowledged and does nothing. Every effect is
also idempotent on its own (payments only leave ``pending``/``requires_action`` once, a card setup
completes with a compare-and-set), so two deliveries racing each other still act once.
Events about objects we do not know, and event types we do not handle, are acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from billing_core.accounts.provider_invoices import BillingInvoice, billing_invoice_from
from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, CardSetupRecord, PaymentMethodRecord, StripeEventRecord
from billing_core.errors import InvalidWebhook, PaymentProviderError
from billing_core.notifications import CardAdded, Notifier
from billing_core.payments.card_cache import refresh_cards
from billing_core.payments.intents import intent_from
from billing_core.payments.ports import PaymentGateway
from billing_core.payments.reconcile import Reconciler
from billing_core.payments.refunds import Disputed, RefundsAndDisputes
from billing_core.views import PaymentMethodView, PaymentView

PAYMENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action")
CARD_EVENTS = (
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    # The card network renewed the card (new expiry or number): the copy, and expiry DMs, follow.
    "payment_method.automatically_updated",
    "customer.updated",
)
CARD_SETUP_EVENTS = ("checkout.session.completed", "checkout.session.expired", "setup_intent.succeeded")
REFUND_EVENTS = ("charge.refunded",)
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")
# With INVOICE_SOURCE=stripe: the Stripe Billing invoices of the bot's customers.
INVOICE_EVENTS = (
    "invoice.finalized",
    "invoice.updated",
    "invoice.paid",
    "invoice.voided",
    "invoice.marked_uncollectible",
)
# Every event ``apply`` acts on: the ones to enable on the Stripe webhook endpoint (README).
HANDLED_EVENTS = PAYMENT_EVENTS + CARD_SETUP_EVENTS + CARD_EVENTS + REFUND_EVENTS + DISPUTE_EVENTS + INVOICE_EVENTS
# What the reconcile pass also lists from Stripe, in case their webhook never arrived (payments
# themselves are looked up by their own intent: ``reconcile.py``).
CATCH_UP_EVENTS = REFUND_EVENTS + DISPUTE_EVENTS
# How far back each pass looks: Stripe retries an undelivered webhook for up to three days
# (https://docs.stripe.com/webhooks/process-undelivered-events), and keeps events for 30.
CATCH_UP_WINDOW = timedelta(days=3)
# At most this many events a pass (ten pages of Stripe's list).
CATCH_UP_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class CaughtUp:
    """What one ``catch_up`` found: events listed, applied now (no webhook had), Stripe errors."""

    listed: int = 0
    applied: int = 0
    errors: int = 0


class InvoiceSink(Protocol):
    """Where Stripe Billing invoices go (``accounts.stripe_billing.StripeBillingSource``)."""

    def apply(self, invoice: BillingInvoice) -> str: ...


@dataclass(frozen=True, slots=True)
class _Refreshed:
    account_id: int
    account_name: str
    cards: list[PaymentMethodView]


class StripeWebhookService:
    """Verifies and applies Stripe events."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        gateway: PaymentGateway,
        reconciler: Reconciler,
        notifier: Notifier,
        secret: str | None,
        invoices: InvoiceSink | None = None,
        on_dispute: Callable[[Disputed], None] | None = None,
        on_unattended_refund: Callable[[PaymentView], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._gateway = gateway
        self._reconciler = reconciler
        self._notifier = notifier
        self._secret = secret or ""
        self._invoices = invoices
        self.refunds = RefundsAndDisputes(
            db=db, clock=clock, notifier=notifier, on_dispute=on_dispute, on_unattended_refund=on_unattended_refund
        )

    def handle(self, payload: bytes, signature_header: str | None) -> str:
        """Apply one delivery. Returns ``applied``, ``ignored`` or ``duplicate``.

        Raises ``InvalidWebhook`` (nothing done) for a bad, missing or older than 5 minutes signature.
        """
        event = self._gateway.verify_event(payload, signature_header, self._secret)
        obj = (event.get("data") or {}).get("object")
        if not isinstance(obj, dict):
            raise InvalidWebhook("event without an object")
        return self._process(event, obj)

    def _process(self, event: dict[str, Any], obj: dict[str, Any]) -> str:
        """Apply one event once, whichever way it came (the webhook, or listed by ``catch_up``)."""
        event_id, event_type = str(event["id"]), str(event["type"])
        if not self._claim(event_id, event_type):
            return "duplicate"
        outcome = self._apply(event_type, obj, (event.get("data") or {}).get("previous_attributes") or {})
        with self._db.transaction() as session:
            session.execute(
                update(StripeEventRecord).where(StripeEventRecord.id == event_id).values(processed_at=self._clock.now())
            )
        return outcome

    def catch_up(self) -> CaughtUp:
        """The reconcile pass's look at what a webhook may have missed: Stripe's refund and dispute
        events of the last ``CATCH_UP_WINDOW`` (at most ``CATCH_UP_LIMIT``, newest first), listed
        from Stripe (https://docs.stripe.com/webhooks/process-undelivered-events), each applied
        as its webhook would be, oldest first. An event already applied (its webhook came first,
        or an earlier pass) is skipped by its id; one applied here makes its later webhook a
        duplicate. The effects are idempotent on their own too (Stripe's totals and statuses)."""
        since = int((self._clock.now() - CATCH_UP_WINDOW).timestamp())
        try:
            events = self._gateway.list_events(CATCH_UP_EVENTS, created_since=since, limit=CATCH_UP_LIMIT)
        except PaymentProviderError:
            return CaughtUp(errors=1)
        listed = [
            e for e in events if isinstance(e.get("id"), str) and isinstance((e.get("data") or {}).get("object"), dict)
        ]
        with self._db.read() as session:
            done = (
                set(
                    session.scalars(
                        select(StripeEventRecord.id).where(
                            StripeEventRecord.id.in_([e["id"] for e in listed]),
                            StripeEventRecord.processed_at.is_not(None),
                        )
                    )
                )
                if listed
                else set()
            )
        applied = 0
        for event in sorted(reversed(listed), key=_created):  # oldest first, as Stripe made them
            if event["id"] in done or event.get("type") not in CATCH_UP_EVENTS:
                continue
            if self._process(event, event["data"]["object"]) == "applied":
                applied += 1
        return CaughtUp(listed=len(listed), applied=applied)

    def _claim(self, event_id: str, event_type: str) -> bool:
        """False when the event was already processed. An unprocessed one (a crash) is applied again."""
        try:
            with self._db.transaction() as session:
                session.add(StripeEventRecord(id=event_id[:255], type=event_type[:128], received_at=self._clock.now()))
        except IntegrityError:
            pass
        with self._db.read() as session:
            record = session.get(StripeEventRecord, event_id)
            return record is not None and record.processed_at is None

    def _apply(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any]) -> str:
        if event_type in PAYMENT_EVENTS and obj.get("object") == "payment_intent" and obj.get("id"):
            return "applied" if self._reconciler.settle_intent(intent_from(obj)) else "ignored"
        if event_type in INVOICE_EVENTS and obj.get("object") == "invoice" and obj.get("id"):
            if self._invoices is None:
                return "ignored"  # invoices come from imports and the push API
            return "applied" if self._invoices.apply(billing_invoice_from(obj)) != "ignored" else "ignored"
        if event_type in REFUND_EVENTS and obj.get("object") == "charge" and self.refunds is not None:
            return "applied" if self.refunds.refunded(obj) else "ignored"
        if event_type in DISPUTE_EVENTS and obj.get("object") == "dispute" and self.refunds is not None:
            return "applied" if self.refunds.dispute(event_type, obj) else "ignored"
        if event_type == "checkout.session.completed" and obj.get("mode") == "setup":
            return self._card_setup_completed(obj)
        if event_type == "checkout.session.expired" and obj.get("mode") == "setup":
            return self._card_setup_expired(obj)
        if event_type == "setup_intent.succeeded":
            return self._setup_intent_succeeded(obj)
        if event_type in CARD_EVENTS:
            customer = obj.get("id") if event_type == "customer.updated" else obj.get("customer")
            customer = customer or previous.get("customer")
            if event_type == "payment_method.detached" and obj.get("id"):
                with self._db.transaction() as session:
                    session.execute(
                        delete(PaymentMethodRecord).where(PaymentMethodRecord.stripe_payment_method_id == obj["id"])
                    )
            return "applied" if self._refresh(customer) is not None else "ignored"
        return "ignored"

    def _refresh(self, customer_id: object) -> _Refreshed | None:
        """Re-read the cards of the account owning ``customer_id``; None if it is not ours."""
        if not isinstance(customer_id, str) or not customer_id:
            return None
        with self._db.read() as session:
            row = session.execute(
                select(AccountRecord.id, AccountRecord.name).where(AccountRecord.stripe_customer_id == customer_id)
            ).first()
        if row is None:
            return None
        cards = refresh_cards(self._db, self._gateway, self._clock, row.id, customer_id)
        return _Refreshed(account_id=row.id, account_name=row.name, cards=cards)

    def _card_setup_expired(self, obj: dict[str, Any]) -> str:
        """The hosted page's hour is up: its card setup is closed (a late completion changes nothing)."""
        session_id = _id(obj.get("id"))
        if session_id is None:
            return "ignored"
        now = self._clock.now()
        with self._db.transaction() as session:
            setup = session.scalars(
                select(CardSetupRecord).where(CardSetupRecord.checkout_session_id == session_id)
            ).first()
            if setup is None:
                return "ignored"
            closed = session.execute(
                update(CardSetupRecord)
                .where(CardSetupRecord.id == setup.id, CardSetupRecord.status == "open")
                .values(status="expired")
                .execution_options(synchronize_session=False)
            )
            if closed.rowcount == 1:  # type: ignore[attr-defined]
                add_audit_event(
                    session,
                    at=now,
                    actor=None,
                    action="card.setup_expired",
                    outcome="expired",
                    account_id=setup.account_id,
                    target=session_id,
                    detail={"requested_by": setup.requested_by_email},
                )
        return "applied"

    def _setup_intent_succeeded(self, obj: dict[str, Any]) -> str:
        refreshed = self._refresh(obj.get("customer"))
        if refreshed is None:
            return "ignored"
        self._complete_setup(
            CardSetupRecord.setup_intent_id == str(obj.get("id")), None, _id(obj.get("payment_method")), refreshed
        )
        return "applied"

    def _card_setup_completed(self, obj: dict[str, Any]) -> str:
        customer_id = _id(obj.get("customer"))
        setup_intent_id = _id(obj.get("setup_intent"))
        payment_method_id = None
        if setup_intent_id:
            try:
                payment_method_id = self._gateway.setup_intent_payment_method(setup_intent_id)
            except PaymentProviderError:
                payment_method_id = None
        refreshed = self._refresh(customer_id)
        if refreshed is None:
            return "ignored"
        cards = refreshed.cards
        if payment_method_id and customer_id and not any(card.is_default for card in cards):
            # A first card saved through the page becomes the default, so "pay" has a card to use.
            self._gateway.set_default_payment_method(customer_id, payment_method_id)
            refreshed = self._refresh(customer_id) or refreshed
        self._complete_setup(
            CardSetupRecord.checkout_session_id == str(obj.get("id")), setup_intent_id, payment_method_id, refreshed
        )
        return "applied"

    def _complete_setup(
        self,
        which: Any,
        setup_intent_id: str | None,
        payment_method_id: str | None,
        refreshed: _Refreshed,
    ) -> None:
        cards = refreshed.cards
        now = self._clock.now()
        with self._db.transaction() as session:
            setup = session.scalars(
                select(CardSetupRecord).where(which, CardSetupRecord.account_id == refreshed.account_id)
            ).first()
            if setup is None:
                return
            done = session.execute(
                update(CardSetupRecord)
                .where(CardSetupRecord.id == setup.id, CardSetupRecord.status == "open")
                .values(status="completed", completed_at=now, setup_intent_id=setup_intent_id or setup.setup_intent_id)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                return
            principal = setup.requested_by_principal
            add_audit_event(
                session,
                at=now,
                actor=None,
                action="card.added",
                outcome="ok",
                account_id=refreshed.account_id,
                target=payment_method_id,
                detail={"requested_by": setup.requested_by_email},
            )
        card = next((c for c in cards if c.id == payment_method_id), cards[0] if cards else None)
        if card is not None:
            self._notifier.tell_principal(principal, CardAdded(refreshed.account_name, card))


def _created(event: dict[str, Any]) -> int:
    created = event.get("created")
    return created if isinstance(created, int) and not isinstance(created, bool) else 0


def _id(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None
