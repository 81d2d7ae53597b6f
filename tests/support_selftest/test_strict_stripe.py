"""The strict stand-in answers as Stripe documents where localstripe is kinder (the SDK sees it so)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from stripe.params import PaymentIntentCreateParams

from tests.support.localstripe_server import LocalStripe
from tests.support.stripe_proxy import StripeProxy

THREE_D_SECURE_ALWAYS = "4000002760003184"


@pytest.fixture
def proxy(localstripe: LocalStripe) -> Iterator[StripeProxy]:
    with StripeProxy(localstripe.base_url) as running:
        yield running


def _client(proxy: StripeProxy) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": proxy.base_url}, max_network_retries=0)


def _card(client: stripe.StripeClient, number: str = "4242424242424242") -> tuple[str, str]:
    customer = client.v1.customers.create(params={"email": "a@x.test"}).id
    card = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
    )
    client.v1.payment_methods.attach(card.id, params={"customer": customer})
    return customer, card.id


def _pay(
    client: stripe.StripeClient,
    customer: str,
    card: str,
    *,
    off_session: bool | None = None,
    description: str | None = None,
    statement_descriptor_suffix: str | None = None,
) -> stripe.PaymentIntent:
    params: PaymentIntentCreateParams = {
        "amount": 500,
        "currency": "usd",
        "customer": customer,
        "payment_method": card,
        "confirm": True,
    }
    if off_session is not None:
        params["off_session"] = off_session
    if description is not None:
        params["description"] = description
    if statement_descriptor_suffix is not None:
        params["statement_descriptor_suffix"] = statement_descriptor_suffix
    return client.v1.payment_intents.create(params=params)


def test_off_session_a_card_that_wants_3ds_is_refused_with_authentication_required(proxy: StripeProxy) -> None:
    client = _client(proxy)
    customer, card = _card(client, THREE_D_SECURE_ALWAYS)
    with pytest.raises(stripe.CardError) as refused:
        _pay(client, customer, card, off_session=True)
    assert refused.value.http_status == 402 and refused.value.code == "authentication_required"
    body = refused.value.json_body  # typed as object by stripe: the JSON Stripe answered
    assert isinstance(body, dict)
    error = body["error"]
    intent = error["payment_intent"]
    assert intent["status"] == "requires_payment_method" and intent["next_action"] is None
    assert client.v1.payment_intents.retrieve(intent["id"]).status == "requires_payment_method"
    # Back on session (Stripe.js on our page), the bank is asked and the payment can complete.
    assert proxy.confirm_on_session(intent["id"])["status"] == "requires_action"
    assert proxy.intent(intent["id"])["status"] == "requires_action"


def test_on_session_the_same_card_gets_the_authentication_step(proxy: StripeProxy) -> None:
    client = _client(proxy)
    customer, card = _card(client, THREE_D_SECURE_ALWAYS)
    assert _pay(client, customer, card).status == "requires_action"


def test_latest_charge_is_an_id_unless_expanded_and_the_expanded_charge_has_a_receipt(proxy: StripeProxy) -> None:
    client = _client(proxy)
    customer, card = _card(client)
    plain = _pay(client, customer, card)
    assert isinstance(plain.latest_charge, str) and "charges" not in plain.to_dict()
    expanded = client.v1.payment_intents.retrieve(plain.id, params={"expand": ["latest_charge"]}).to_dict()
    assert expanded["latest_charge"]["receipt_url"].startswith("https://pay.stripe.com/receipts/")


def test_the_same_idempotency_key_returns_the_first_answer_and_refuses_other_parameters(proxy: StripeProxy) -> None:
    client = _client(proxy)
    customer, card = _card(client)
    params: PaymentIntentCreateParams = {
        "amount": 500,
        "currency": "usd",
        "customer": customer,
        "payment_method": card,
        "confirm": True,
    }
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k1"})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k1"})
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(
            params={**params, "amount": 600},
            options={"idempotency_key": "k1"},
        )


def test_description_and_statement_descriptor_suffix_are_accepted_and_shown(proxy: StripeProxy) -> None:
    client = _client(proxy)
    customer, card = _card(client)
    intent = _pay(client, customer, card, description="Invoices INV-1", statement_descriptor_suffix="INV-1")
    assert intent.description == "Invoices INV-1" and intent.statement_descriptor_suffix == "INV-1"
