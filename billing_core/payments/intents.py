"""The payment provider's objects as the domain sees them: small frozen values, and the readers
that make them from the provider's JSON (an API answer or the plain dict of a webhook event)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    customer_id: str | None
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class Intent:
    """A PaymentIntent as far as we care: what happened, and how to go on."""

    id: str
    status: str  # succeeded / requires_action / requires_payment_method / processing / canceled / ...
    amount_minor: int
    currency: str
    customer_id: str | None = None
    payment_method_id: str | None = None
    client_secret: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    # The issuer's advice on a decline (``do_not_try_again``, ``try_again_later``, ...), if any.
    advice_code: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    # The charge's receipt page, when Stripe gives one (the Stripe emulator of the tests and the demo does not).
    receipt_url: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str


class CardDeclined(Exception):
    """Stripe said no at charge time. ``intent`` is set when Stripe named the PaymentIntent."""

    def __init__(self, *, code: str, message: str, request_id: str | None = None, intent: Intent | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.intent = intent


def unwrap(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    result: dict[str, Any] = obj.to_dict()
    return result


def intent_from(data: Any) -> Intent:
    """An ``Intent`` from a Stripe object or the plain dict of a webhook event."""
    raw = unwrap(data)
    error = raw.get("last_payment_error") or {}
    payment_method = raw.get("payment_method")
    if isinstance(payment_method, dict):
        payment_method = payment_method.get("id")
    customer = raw.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return Intent(
        id=str(raw["id"]),
        status=str(raw.get("status") or ""),
        amount_minor=int(raw.get("amount") or 0),
        currency=str(raw.get("currency") or ""),
        customer_id=customer,
        payment_method_id=payment_method,
        client_secret=raw.get("client_secret"),
        failure_code=error.get("decline_code") or error.get("code"),
        failure_message=error.get("message"),
        advice_code=error.get("advice_code"),
        metadata={str(k): str(v) for k, v in (raw.get("metadata") or {}).items()},
        receipt_url=_receipt_url(raw.get("latest_charge")),
    )


def _receipt_url(charge: Any) -> str | None:
    """``latest_charge.receipt_url`` when the charge came expanded and has an http(s) one."""
    if charge is None or isinstance(charge, str):
        return None
    url = unwrap(charge).get("receipt_url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 2000 else None


def card_from(data: Any) -> Card:
    raw = unwrap(data)
    card = raw.get("card") or {}
    customer = raw.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return Card(
        id=str(raw["id"]),
        customer_id=customer,
        brand=str(card.get("brand") or "card"),
        last4=str(card.get("last4") or "????"),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
    )
