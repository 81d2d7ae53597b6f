"""The payment provider as the domain needs it. The Stripe adapter (in ``billing_core.adapters``) implements
it against Stripe; tests use an in-memory one (``tests/support/fakes.py``).

Errors, as every implementation raises them: ``CardDeclined`` when the card is refused at charge
time, ``PaymentProviderUnavailable`` when the outcome is unknown (timeouts, 5xx, rate limits),
``PaymentProviderError`` otherwise, ``PaymentMethodNotFound`` for a card that does not exist and
``InvalidWebhook`` for an event that is not signed as it should be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from billing_core.accounts.provider_invoices import BillingInvoice
from billing_core.payments.intents import Card, CheckoutSession, Intent

WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentGateway(Protocol):
    # -- customers and cards

    def create_customer(self, *, email: str, account_external_id: str, idempotency_key: str) -> str: ...

    def default_payment_method(self, customer_id: str) -> str | None: ...

    def list_cards(self, customer_id: str) -> list[Card]: ...

    def retrieve_card(self, payment_method_id: str) -> Card:
        """The card, with the customer it is attached to; ``PaymentMethodNotFound`` if none."""
        ...

    def set_default_payment_method(self, customer_id: str, payment_method_id: str | None) -> None: ...

    def detach(self, payment_method_id: str) -> None: ...

    def setup_intent_payment_method(self, setup_intent_id: str) -> str | None: ...

    def create_setup_checkout(
        self, *, customer_id: str, success_url: str, cancel_url: str, metadata: Mapping[str, str]
    ) -> CheckoutSession:
        """A provider-hosted page where the customer saves a card; no card data reaches us."""
        ...

    # -- payments

    def charge(
        self,
        *,
        amount_minor: int,
        currency: str,
        customer_id: str,
        payment_method_id: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
        off_session: bool,
        description: str | None = None,
        statement_descriptor_suffix: str | None = None,
    ) -> Intent:
        """Create and confirm a payment; the same ``idempotency_key`` replays the first answer."""
        ...

    def retrieve_intent(self, intent_id: str) -> Intent: ...

    def cancel_intent(self, intent_id: str) -> Intent: ...

    def find_intent(self, payment_key: str, *, customer_id: str | None) -> Intent | None:
        """The customer's intent whose metadata names our payment key, if any."""
        ...

    # -- invoices kept by the provider (INVOICE_SOURCE)

    def list_invoices(self, customer_id: str, *, created_since: int | None = None) -> list[BillingInvoice]: ...

    def retrieve_invoice(self, invoice_id: str) -> BillingInvoice: ...

    def pay_invoice(
        self, invoice_id: str, *, payment_method_id: str, off_session: bool, idempotency_key: str
    ) -> Intent: ...

    def mark_invoice_paid(self, invoice_id: str) -> None: ...

    # -- events a webhook may have missed

    def list_events(self, types: Sequence[str], *, created_since: int, limit: int) -> list[dict[str, Any]]:
        """The provider's events of ``types`` created at or after ``created_since`` (unix seconds),
        newest first, at most ``limit``, each as the webhook would deliver it."""
        ...

    # -- webhooks

    def verify_event(
        self, payload: bytes, signature_header: str | None, secret: str, tolerance: int = WEBHOOK_TOLERANCE_SECONDS
    ) -> dict[str, Any]:
        """The event as a plain dict, if signed with ``secret`` within ``tolerance`` seconds."""
        ...
