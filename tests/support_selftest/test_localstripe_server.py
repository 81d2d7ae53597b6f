"""localstripe runs as a private subprocess and behaves like Stripe for our SDK."""

from __future__ import annotations

import os
from pathlib import Path

import stripe
from stripe.params import PaymentIntentCreateParams

from tests.support.http_receiver import HttpReceiver
from tests.support.localstripe_server import LocalStripe

PICKLE = Path("/tmp/localstripe.pickle")


def _client(ls: LocalStripe) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": ls.base_url}, max_network_retries=0)


def test_a_customer_can_be_created_and_reset_removes_it(localstripe: LocalStripe) -> None:
    before = PICKLE.stat().st_mtime_ns if PICKLE.exists() else None
    client = _client(localstripe)
    customer = client.v1.customers.create(params={"email": "ann@acme.test", "metadata": {"k": "v"}})
    assert customer.id.startswith("cus_")
    assert client.v1.customers.retrieve(customer.id).email == "ann@acme.test"
    localstripe.reset()
    assert client.v1.customers.list().data == []
    after = PICKLE.stat().st_mtime_ns if PICKLE.exists() else None
    assert before == after, "localstripe must not write its shared pickle file"


def test_the_server_listens_on_loopback_only(localstripe: LocalStripe) -> None:
    assert localstripe.base_url.startswith("http://127.0.0.1:")
    assert localstripe.running


def test_a_registered_webhook_arrives_signed(localstripe: LocalStripe, http_receiver: HttpReceiver) -> None:
    secret = "whsec_selftest"
    wid = localstripe.register_webhook(http_receiver.url("/hook"), secret, events=["customer.created"])
    try:
        created = _client(localstripe).v1.customers.create(params={"email": "hook@acme.test"})
        req = http_receiver.wait_for(lambda r: created.id.encode() in r.body, timeout=5)
        event = stripe.Webhook.construct_event(req.body, req.headers["stripe-signature"], secret)
        assert event.type == "customer.created"
        assert req.path == "/hook"
    finally:
        # point the registration somewhere harmless for later tests
        localstripe.register_webhook("http://127.0.0.1:9/", secret, events=["none"], webhook_id=wid)


def test_three_d_secure_can_be_completed_with_authenticate(localstripe: LocalStripe) -> None:
    client = _client(localstripe)
    customer = client.v1.customers.create(params={"email": "3ds@acme.test"})
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000002500003155", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    params: PaymentIntentCreateParams = {
        "amount": 1000,
        "currency": "usd",
        "customer": customer.id,
        "payment_method": pm.id,
        "confirm": True,
        "off_session": True,
    }
    pi = client.v1.payment_intents.create(params=params)
    assert pi.status == "requires_action"
    assert pi.client_secret is not None
    assert localstripe.authenticate_payment_intent(pi.id, pi.client_secret)["status"] == "succeeded"


def test_two_servers_can_run_side_by_side_without_sharing_state() -> None:
    with LocalStripe() as other:
        assert other.port
        assert os.path.basename(other.base_url)  # started and addressable
        assert _client(other).v1.customers.list().data == []
    assert not other.running
