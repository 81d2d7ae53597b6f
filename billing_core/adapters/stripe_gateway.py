"""The Stripe gateway: the only module that imports ``stripe``; it implements ``PaymentGateway``.

It sends the parameters Stripe documents (``description`` and ``statement_descriptor_suffix``, which
localstripe refuses, only to Stripe itself unless told), turns Stripe objects into small frozen
values, and maps Stripe errors to domain errors, keeping Stripe's ``request_id``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

import requests
import requests.utils
import stripe

from billing_core.accounts.provider_invoices import BillingInvoice, billing_invoice_from
from billing_core.errors import (
    InvalidWebhook,
    PaymentMethodNotFound,
    PaymentProviderError,
    PaymentProviderUnavailable,
)
from billing_core.payments.intents import (
    Card,
    CardDeclined,
    CheckoutSession,
    Intent,
    card_from,
    intent_from,
)
from billing_core.payments.intents import unwrap as _unwrap
from billing_core.payments.ports import WEBHOOK_TOLERANCE_SECONDS

CHECKOUT_LIFETIME_SECONDS = 3600
# How many of a customer's recent PaymentIntents ``find_intent`` scans for our metadata key.
_FIND_SCAN_LIMIT = 1000
# Since API version 2022-11-15 a PaymentIntent's ``latest_charge`` is an id unless expanded.
_EXPAND_CHARGE = ["latest_charge"]


def _provider_error(error: stripe.StripeError) -> PaymentProviderError:
    """Timeouts, connection errors, rate limits and 5xx leave the outcome unknown; 4xx do not."""
    status = error.http_status or 0
    message = f"{type(error).__name__}: {error.user_message or 'no message'}"
    unknown = (
        isinstance(error, stripe.APIConnectionError | stripe.RateLimitError)
        or status >= 500
        or status == 409  # the same idempotency key is still in progress at Stripe
        or (isinstance(error, stripe.APIError) and status == 0)
    )
    if unknown:
        return PaymentProviderUnavailable(message, request_id=error.request_id)
    return PaymentProviderError(message, request_id=error.request_id, retryable=False)


def _session_for(api_base: str) -> requests.Session:
    """One HTTP session for every Stripe call, its proxy read from the environment once.

    requests reads the proxy variables (``HTTPS_PROXY``, ``NO_PROXY``, …) and ``~/.netrc`` on every
    request of a session that trusts the environment: a third of a card check's CPU. Stripe's
    client sends its own certificate bundle and ``Authorization`` header, so the proxy is all the
    environment gives it; it is read here, for Stripe's one host, as requests would read it.
    """
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(api_base))
    return session


class StripeGateway:
    """Thin, typed calls to Stripe through one ``StripeClient``."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = "https://api.stripe.com",
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        max_network_retries: int = 0,
        describe_payments: bool | None = None,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        # ``description`` and ``statement_descriptor_suffix`` name the invoices in the Dashboard and
        # on the card statement; localstripe refuses both, so by default only Stripe itself gets them.
        self.describe_payments = (
            describe_payments if describe_payments is not None else self.api_base == "https://api.stripe.com"
        )
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": self.api_base},
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(
                timeout=(connect_timeout, read_timeout), session=_session_for(self.api_base)
            ),
        )

    # -- customers and cards ----------------------------------------------------------------

    def create_customer(self, *, email: str, account_external_id: str, idempotency_key: str) -> str:
        try:
            customer = self._client.v1.customers.create(
                params={"email": email, "metadata": {"billing_account": account_external_id}},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return str(customer.id)

    def default_payment_method(self, customer_id: str) -> str | None:
        try:
            customer = self._client.v1.customers.retrieve(customer_id)
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        settings = _unwrap(customer).get("invoice_settings") or {}
        default = settings.get("default_payment_method")
        if isinstance(default, dict):
            default = default.get("id")
        return str(default) if default else None

    def list_cards(self, customer_id: str) -> list[Card]:
        try:
            page = self._client.v1.payment_methods.list(params={"customer": customer_id, "type": "card", "limit": 100})
            return [card_from(pm) for pm in page.auto_paging_iter()]
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def retrieve_card(self, payment_method_id: str) -> Card:
        """The card, with the customer it is attached to; ``PaymentMethodNotFound`` if none."""
        if not payment_method_id.startswith("pm_"):
            raise PaymentMethodNotFound(payment_method_id)
        try:
            return card_from(self._client.v1.payment_methods.retrieve(payment_method_id))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                raise PaymentMethodNotFound(payment_method_id) from error
            raise _provider_error(error) from error
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def set_default_payment_method(self, customer_id: str, payment_method_id: str | None) -> None:
        try:
            self._client.v1.customers.update(
                customer_id,
                params={"invoice_settings": {"default_payment_method": payment_method_id or ""}},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def detach(self, payment_method_id: str) -> None:
        try:
            self._client.v1.payment_methods.detach(payment_method_id)
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def setup_intent_payment_method(self, setup_intent_id: str) -> str | None:
        try:
            intent = _unwrap(self._client.v1.setup_intents.retrieve(setup_intent_id))
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        payment_method = intent.get("payment_method")
        if isinstance(payment_method, dict):
            payment_method = payment_method.get("id")
        return str(payment_method) if payment_method else None

    def create_setup_checkout(
        self, *, customer_id: str, success_url: str, cancel_url: str, metadata: Mapping[str, str]
    ) -> CheckoutSession:
        """A Stripe-hosted page where the customer saves a card; no card data reaches us."""
        try:
            params: dict[str, Any] = {
                "mode": "setup",
                "customer": customer_id,
                "payment_method_types": ["card"],
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": dict(metadata),
                # The page is a bearer link into the customer's wallet: an hour, not Stripe's default
                # 24 (30 minutes is Stripe's shortest); checkout.session.expired then closes it.
                "expires_at": int(time.time()) + CHECKOUT_LIFETIME_SECONDS,
            }
            session = self._client.v1.checkout.sessions.create(params=cast(Any, params))
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        raw = _unwrap(session)
        return CheckoutSession(id=str(raw["id"]), url=str(raw["url"]))

    # -- payments ----------------------------------------------------------------------------

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
        """Create and confirm a PaymentIntent, its charge expanded (so the receipt link is known).

        ``off_session`` says who started it, as Stripe defines it: False for a person's own click
        (customer-initiated: when the bank wants 3-D Secure, Stripe answers ``requires_action`` and
        the payer authenticates), True for autopay (merchant-initiated: the customer "isn't in your
        checkout flow and can't authenticate", so Stripe answers 402 ``authentication_required``
        and leaves the intent in ``requires_payment_method`` until the customer confirms it on
        session).

        Returns the intent (succeeded, requires_action, processing, ...). Raises ``CardDeclined``
        when the card is refused (the 402 above included, carrying the intent when Stripe names it)
        and ``PaymentProviderUnavailable`` when the outcome is unknown.
        """
        if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
            raise TypeError("amount must be an int of minor units")
        try:
            params: dict[str, Any] = {
                "amount": amount_minor,
                "currency": currency,
                "customer": customer_id,
                "payment_method": payment_method_id,
                # Cards are all we save (Checkout collects only cards); naming the type keeps Stripe
                # from demanding a return_url for redirect-based methods on confirm.
                "payment_method_types": ["card"],
                "confirm": True,
                "metadata": dict(metadata),
                "expand": _EXPAND_CHARGE,
            }
            if off_session:
                params["off_session"] = True
            if self.describe_payments and description:
                params["description"] = description
            if self.describe_payments and statement_descriptor_suffix:
                params["statement_descriptor_suffix"] = statement_descriptor_suffix
            intent = self._client.v1.payment_intents.create(
                params=cast(Any, params), options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as error:
            raise self._declined(error) from error
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return intent_from(intent)

    def _declined(self, error: stripe.CardError) -> CardDeclined:
        body: dict[str, Any] = error.json_body if isinstance(error.json_body, dict) else {}
        details: dict[str, Any] = body.get("error") or {}
        intent_data = details.get("payment_intent")
        return CardDeclined(
            code=str(details.get("decline_code") or error.code or "card_declined"),
            message=str(details.get("message") or error.user_message or ""),
            request_id=error.request_id,
            intent=intent_from(intent_data) if isinstance(intent_data, dict) else None,
        )

    def retrieve_intent(self, intent_id: str) -> Intent:
        """The intent as it stands, its charge expanded (``latest_charge`` is otherwise an id)."""
        try:
            return intent_from(self._client.v1.payment_intents.retrieve(intent_id, params={"expand": _EXPAND_CHARGE}))
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def cancel_intent(self, intent_id: str) -> Intent:
        try:
            return intent_from(self._client.v1.payment_intents.cancel(intent_id, params={"expand": _EXPAND_CHARGE}))
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def find_intent(self, payment_key: str, *, customer_id: str | None) -> Intent | None:
        """The PaymentIntent whose metadata names our payment key, among the customer's most recent
        ones (Stripe filters the list by customer).

        For the crash between Stripe's answer and our commit, once the idempotency window in which
        the create can be replayed is over: the id never reached our database.
        """
        if not customer_id:
            return None
        filtered: dict[str, Any] = {"limit": 100, "customer": customer_id, "expand": ["data.latest_charge"]}
        try:
            return self._scan(filtered, payment_key, customer_id)
        except stripe.InvalidRequestError as error:
            if error.http_status != 400:
                raise _provider_error(error) from error
        # A Stripe-compatible server that cannot filter by customer (localstripe, in the demo).
        try:
            return self._scan({"limit": 100, "expand": ["data.latest_charge"]}, payment_key, customer_id)
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def _scan(self, params: dict[str, Any], payment_key: str, customer_id: str) -> Intent | None:
        """The first of up to ``_FIND_SCAN_LIMIT`` listed intents of the customer carrying our key.
        Raises ``InvalidRequestError`` as Stripe does; any other Stripe error as a domain error."""
        try:
            page = self._client.v1.payment_intents.list(params=cast(Any, params))
            for seen, intent in enumerate(page.auto_paging_iter()):
                if seen >= _FIND_SCAN_LIMIT:
                    break
                found = intent_from(intent)
                if found.customer_id == customer_id and found.metadata.get("billing_payment_key") == payment_key:
                    return found
        except stripe.InvalidRequestError:
            raise
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return None

    # -- Stripe Billing invoices (INVOICE_SOURCE=stripe) ---------------------------------------

    def list_invoices(self, customer_id: str, *, created_since: int | None = None) -> list[BillingInvoice]:
        """Every invoice of the customer (newest first), created at or after ``created_since``."""
        params: dict[str, Any] = {"customer": customer_id, "limit": 100}
        if created_since is not None:
            params["created"] = {"gte": created_since}
        try:
            page = self._client.v1.invoices.list(params=cast(Any, params))
            return [billing_invoice_from(_unwrap(invoice)) for invoice in page.auto_paging_iter()]
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def retrieve_invoice(self, invoice_id: str) -> BillingInvoice:
        try:
            return billing_invoice_from(_unwrap(self._client.v1.invoices.retrieve(invoice_id)))
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    def pay_invoice(
        self, invoice_id: str, *, payment_method_id: str, off_session: bool, idempotency_key: str
    ) -> Intent:
        """Pay the Stripe invoice itself with this card, so Stripe marks it paid and never collects
        it again (https://docs.stripe.com/api/invoices/pay); the PaymentIntent it made, as ``charge``
        returns one (raises ``CardDeclined`` / ``PaymentProviderUnavailable`` alike)."""
        try:
            invoice = self._client.v1.invoices.pay(
                invoice_id,
                params={"payment_method": payment_method_id, "off_session": off_session, "expand": ["payment_intent"]},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as error:
            raise self._declined(error) from error
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        raw = _unwrap(invoice)
        intent = raw.get("payment_intent")
        if isinstance(intent, str):
            return self.retrieve_intent(intent)
        if isinstance(intent, dict):
            return intent_from(intent)
        raise PaymentProviderUnavailable(f"invoice {invoice_id} came back without its PaymentIntent")

    def mark_invoice_paid(self, invoice_id: str) -> None:
        """Mark a Stripe invoice paid without charging (``paid_out_of_band``): it was paid through
        the bot as part of one PaymentIntent (https://docs.stripe.com/api/invoices/pay)."""
        try:
            self._client.v1.invoices.pay(
                invoice_id,
                params={"paid_out_of_band": True},
                options={"idempotency_key": f"billing-out-of-band-{invoice_id}"},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error

    # -- events (what a webhook may have missed) ---------------------------------------------

    def list_events(self, types: Sequence[str], *, created_since: int, limit: int) -> list[dict[str, Any]]:
        """Stripe's events of ``types`` created at or after ``created_since`` (unix seconds), newest
        first, at most ``limit``, as plain dicts shaped as the webhook delivers them.

        https://docs.stripe.com/api/events/list ("List events, going back up to 30 days"; ``types``:
        up to 20 names; ``created``; ``limit`` up to 100 a page) and
        https://docs.stripe.com/webhooks/process-undelivered-events (listing is how events a
        webhook endpoint missed are processed)."""
        window: dict[str, Any] = {"created": {"gte": created_since}, "limit": min(100, limit)}
        try:
            return self._events({"types": list(types), **window}, limit)
        except stripe.InvalidRequestError as error:
            if error.http_status != 400:
                raise _provider_error(error) from error
        # A Stripe-compatible server that knows ``type`` but not ``types`` (localstripe, in the demo).
        try:
            found = [event for one in types for event in self._events({"type": one, **window}, limit)]
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        found.sort(key=lambda event: int(event.get("created") or 0), reverse=True)
        return found[:limit]

    def _events(self, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` listed events. Raises ``InvalidRequestError`` as Stripe does; any other
        Stripe error as a domain error."""
        found: list[dict[str, Any]] = []
        try:
            page = self._client.v1.events.list(params=cast(Any, params))
            for event in page.auto_paging_iter():
                found.append(_unwrap(event))
                if len(found) >= limit:
                    break
        except stripe.InvalidRequestError:
            raise
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return found

    # -- webhooks ----------------------------------------------------------------------------

    @staticmethod
    def verify_event(
        payload: bytes, signature_header: str | None, secret: str, tolerance: int = WEBHOOK_TOLERANCE_SECONDS
    ) -> dict[str, Any]:
        """The event as a plain dict, if signed with ``secret`` within ``tolerance`` seconds."""
        if not signature_header or not secret:
            raise InvalidWebhook("missing signature")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidWebhook("body is not UTF-8") from error
        try:
            stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance)
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook("bad signature") from error
        try:
            event = json.loads(text)
        except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than json goes
            raise InvalidWebhook("body is not JSON") from error
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("type"):
            raise InvalidWebhook("not an event")
        return event
