"""``POST /stripe/webhook``: signatures, replays, unknown events, card setups completing."""

from __future__ import annotations

import time

from sqlalchemy import select
from starlette.testclient import TestClient
from stripe.params import SetupIntentCreateParams

from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import CardSetupRecord, PaymentRecord, StripeEventRecord
from tests.support.http_receiver import HttpReceiver
from tests.support.payments import (
    ANN,
    NEEDS_AUTHENTICATION,
    RecordingNotifier,
    Setup,
    Stripe,
    add_card,
    event,
    signed,
)


def post(http: TestClient, payload: bytes, signature: str | None) -> tuple[int, str]:
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    response = http.post("/stripe/webhook", content=payload, headers=headers)
    return response.status_code, response.text


def test_a_bad_missing_or_stale_signature_gets_400_and_nothing_is_stored(
    pay: Services, http: TestClient, db: Database
) -> None:
    body, good = signed(event("customer.updated", {"id": "cus_x", "object": "customer"}))
    _, wrong = signed(event("customer.updated", {"id": "cus_x"}), secret="whsec_other")
    _, stale = signed(event("customer.updated", {"id": "cus_x"}), at=int(time.time()) - 301)

    assert post(http, body, wrong.replace(wrong.split(",")[0], good.split(",")[0]))[0] == 400
    assert post(http, body, None)[0] == 400
    assert post(http, body, "garbage")[0] == 400
    stale_body, stale_signature = signed(event("customer.updated", {"id": "cus_x"}), at=int(time.time()) - 301)
    assert post(http, stale_body, stale_signature)[0] == 400
    assert post(http, b"\xff\xfe not json", good)[0] == 400
    with db.read() as session:
        assert session.scalars(select(StripeEventRecord)).all() == []
    assert stale


def test_unknown_events_and_unknown_objects_are_acknowledged_and_change_nothing(
    pay: Services, http: TestClient
) -> None:
    for evt in (
        event("invoice.created", {"id": "in_1", "object": "invoice"}),
        event(
            "payment_intent.succeeded",
            {
                "id": "pi_unknown",
                "object": "payment_intent",
                "status": "succeeded",
                "amount": 100,
                "currency": "usd",
                "metadata": {},
            },
        ),
        event("customer.updated", {"id": "cus_unknown", "object": "customer"}),
    ):
        status, text = post(http, *signed(evt))
        assert status == 200
        assert '"ignored"' in text


def test_a_payment_awaiting_authentication_is_settled_by_the_real_webhook_once(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    http: TestClient,
    webhook_inbox: HttpReceiver,
    notifier: RecordingNotifier,
) -> None:
    webhook_inbox.clear()
    card = add_card(pay, stripe_api, cards, NEEDS_AUTHENTICATION)
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-2", card)
    waiting = pay.require_payments().service.execute(started.id)
    intent = stripe_api.client.v1.payment_intents.retrieve(waiting.stripe_payment_intent_id or "")
    stripe_api.server.authenticate_payment_intent(intent.id, intent.client_secret or "")

    delivery = webhook_inbox.wait_for(
        lambda r: b'"payment_intent.succeeded"' in r.body and intent.id.encode() in r.body, timeout=10
    )
    for _ in range(3):
        assert (
            http.post(
                "/stripe/webhook",
                content=delivery.body,
                headers={"Stripe-Signature": delivery.headers["stripe-signature"]},
            ).status_code
            == 200
        )

    assert pay.require_payments().service.get(ANN, "acme", started.id).status == "succeeded"
    assert [n.invoice_numbers for _, _, n in notifier.settled] == [("INV-2",)]


def test_a_replayed_payment_event_is_applied_once(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    http: TestClient,
    db: Database,
) -> None:
    card = add_card(pay, stripe_api, cards, NEEDS_AUTHENTICATION)
    started = pay.require_payments().service.start_balance_payment(ANN, "acme", card, 175050)
    waiting = pay.require_payments().service.execute(started.id)
    succeeded = event(
        "payment_intent.succeeded",
        {
            "id": waiting.stripe_payment_intent_id,
            "object": "payment_intent",
            "status": "succeeded",
            "amount": 175050,
            "currency": "usd",
            "metadata": {},
        },
    )
    body, signature = signed(succeeded)

    assert [post(http, body, signature)[1].count("applied") for _ in range(2)] == [1, 0]
    with db.read() as session:
        payment = session.get(PaymentRecord, started.id)
        assert payment is not None and payment.status == "succeeded"
    balance = pay.accounts.caller(ANN).accounts[0].balance
    assert balance.amount_minor == 0


def test_a_completed_card_setup_shows_the_card_and_tells_the_person_who_asked(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    http: TestClient,
    db: Database,
    notifier: RecordingNotifier,
) -> None:
    # What the hosted Checkout page does (localstripe has none): a SetupIntent saves a card.
    new_card = stripe_api.card(cards.acme_customer, "5555555555554444")
    # stripe 16's typed params leave out payment_method_types, which the API (and localstripe) still take.
    setup_params: SetupIntentCreateParams = {
        "customer": cards.acme_customer,
        "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
    }
    setup_intent = stripe_api.client.v1.setup_intents.create(params=setup_params)
    setup_intent = stripe_api.client.v1.setup_intents.confirm(setup_intent.id, params={"payment_method": new_card})
    with db.transaction() as session:
        session.add(
            CardSetupRecord(
                account_id=1,
                checkout_session_id="cs_test_1",
                requested_by_email=ANN.email,
                requested_by_principal=ANN.principal,
                status="open",
                created_at=pay.clock.now(),
            )
        )
    completed = event(
        "checkout.session.completed",
        {
            "id": "cs_test_1",
            "object": "checkout.session",
            "mode": "setup",
            "status": "complete",
            "customer": cards.acme_customer,
            "setup_intent": setup_intent.id,
        },
    )

    body, signature = signed(completed)
    assert post(http, body, signature)[0] == 200
    assert post(http, body, signature)[0] == 200
    succeeded = event(
        "setup_intent.succeeded",
        {
            "id": setup_intent.id,
            "object": "setup_intent",
            "customer": cards.acme_customer,
            "payment_method": new_card,
            "status": "succeeded",
        },
    )
    assert post(http, *signed(succeeded))[0] == 200

    assert new_card in {c.id for c in pay.require_payments().methods.list(ANN, "acme")}
    assert [(p, name, card.last4) for p, name, card in notifier.cards] == [(ANN.principal, "Acme Corp", "4444")]
    with db.read() as session:
        setup = session.scalars(select(CardSetupRecord)).one()
        assert (setup.status, setup.setup_intent_id) == ("completed", setup_intent.id)


def test_a_card_detached_at_stripe_disappears_from_the_list(
    pay: Services, cards: Setup, stripe_api: Stripe, http: TestClient
) -> None:
    extra = add_card(pay, stripe_api, cards, "5555555555554444")
    stripe_api.client.v1.payment_methods.detach(extra)
    detached = event("payment_method.detached", {"id": extra, "object": "payment_method", "customer": None})
    detached["data"]["previous_attributes"] = {"customer": cards.acme_customer}

    assert post(http, *signed(detached))[0] == 200
    assert [c.id for c in pay.require_payments().methods.list(ANN, "acme")] == [cards.acme_card]
