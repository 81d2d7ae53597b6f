"""Payment fixtures: localstripe, two sample accounts, services wired to them, a recording notifier."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord
from billing_core.payments.stripe_gateway import StripeGateway
from billing_core.views import Actor, PaymentMethodView, PaymentView
from bot.bootstrap import build_services
from bot.settings import Settings
from bot.stripe_routes import stripe_routes
from tests.support.fixtures import localstripe, localstripe_server  # noqa: F401
from tests.support.http_receiver import HttpReceiver
from tests.support.localstripe_server import LocalStripe

WEBHOOK_SECRET = "whsec_payments_tests"
ANN = Actor(email="ann@acme.test", principal="slack:T1:UANN", display_name="Ann Lee")
PETER = Actor(email="peter@initech.test", principal="slack:T1:UPETER", display_name="Peter Gibbons")

VISA = "4242424242424242"
DECLINES_AT_CHARGE = "4000000000000341"
NEEDS_AUTHENTICATION = "4000002500003155"

SAMPLE: dict[str, Any] = {
    "accounts": [
        {
            "id": "acme", "name": "Acme Corp", "currency": "usd",
            "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}],
            "invoices": [
                {"number": "INV-1", "issued_on": "2026-10-01", "due_on": "2026-10-31",
                 "amount_due": 125000, "currency": "usd", "status": "open"},
                {"number": "INV-2", "issued_on": "2026-11-01", "due_on": "2026-12-01",
                 "amount_due": 50050, "currency": "usd", "status": "open"},
                {"number": "INV-0", "issued_on": "2026-09-01", "due_on": "2026-09-30",
                 "amount_due": 9900, "currency": "usd", "status": "paid"},
            ],
        },
        {
            "id": "initech", "name": "Initech", "currency": "usd",
            "contacts": [{"email": "peter@initech.test", "name": "Peter Gibbons"}],
            "invoices": [
                {"number": "I-1", "issued_on": "2026-11-01", "due_on": "2026-11-20",
                 "amount_due": 7000, "currency": "usd", "status": "open"},
            ],
        },
    ]
}


@dataclass
class RecordingNotifier:
    """Remembers what it was asked to tell whom (used in addition to real components)."""

    settled: list[tuple[str, str, PaymentView]] = field(default_factory=list)
    cards: list[tuple[str, str, PaymentMethodView]] = field(default_factory=list)

    def card_added(self, *, principal: str, account_name: str, card: PaymentMethodView) -> None:
        self.cards.append((principal, account_name, card))

    def payment_settled(self, *, principal: str, account_name: str, payment: PaymentView) -> None:
        self.settled.append((principal, account_name, payment))


@dataclass
class Stripe:
    """Test-side access to localstripe: make cards, look at what was charged."""

    server: LocalStripe
    client: stripe.StripeClient

    def customer(self, email: str = "x@test") -> str:
        return str(self.client.v1.customers.create(params={"email": email}).id)

    def card(self, customer_id: str, number: str = VISA) -> str:
        pm = self.client.v1.payment_methods.create(
            params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
        )
        self.client.v1.payment_methods.attach(pm.id, params={"customer": customer_id})
        return str(pm.id)

    def intents(self, payment_key: str | None = None) -> list[dict[str, Any]]:
        found = [pi.to_dict() for pi in self.client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()]
        if payment_key is not None:
            found = [pi for pi in found if (pi.get("metadata") or {}).get("billing_payment_key") == payment_key]
        return found

    def default_card(self, customer_id: str) -> str | None:
        customer = self.client.v1.customers.retrieve(customer_id).to_dict()
        default = (customer.get("invoice_settings") or {}).get("default_payment_method")
        return str(default) if default else None

    def card_ids(self, customer_id: str) -> set[str]:
        page = self.client.v1.payment_methods.list(params={"customer": customer_id, "type": "card"})
        return {str(pm.id) for pm in page.auto_paging_iter()}


@pytest.fixture
def stripe_api(localstripe: LocalStripe) -> Stripe:  # noqa: F811
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": localstripe.base_url}, max_network_retries=0)
    return Stripe(server=localstripe, client=client)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


def settings_for(database_url: str, api_base: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, DATABASE_URL=database_url, STRIPE_API_KEY="sk_test_x", STRIPE_API_BASE=api_base,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, PUBLIC_URL="http://bot.test",
    )


@pytest.fixture
def pay_settings(database_url: str, localstripe: LocalStripe) -> Settings:  # noqa: F811
    return settings_for(database_url, localstripe.base_url)


@pytest.fixture
def pay(pay_settings: Settings, db: Database, clock: FixedClock, notifier: RecordingNotifier) -> Services:
    """Services on the sample accounts, talking to localstripe."""
    services = build_services(pay_settings, clock=clock, db=db, notifier=notifier)
    services.importer.run(SAMPLE)
    return services


def services_with(
    pay_settings: Settings, db: Database, clock: FixedClock, notifier: RecordingNotifier, gateway: StripeGateway
) -> Services:
    """Services on the same database with another gateway (a faulty one, say)."""
    return build_services(pay_settings, clock=clock, db=db, notifier=notifier, stripe_gateway=gateway)


def give_customer(db: Database, account: str, customer_id: str) -> None:
    with db.transaction() as session:
        record = session.scalars(select(AccountRecord).where(AccountRecord.external_id == account)).one()
        record.stripe_customer_id = customer_id


@dataclass
class Setup:
    acme_customer: str
    acme_card: str
    initech_customer: str
    initech_card: str


@pytest.fixture
def cards(pay: Services, stripe_api: Stripe, db: Database) -> Setup:
    """Each account has a Stripe customer with one Visa, listed once so the cache knows it."""
    acme, initech = stripe_api.customer("ann@acme.test"), stripe_api.customer("peter@initech.test")
    give_customer(db, "acme", acme)
    give_customer(db, "initech", initech)
    setup = Setup(acme, stripe_api.card(acme), initech, stripe_api.card(initech))
    pay.payment_methods.make_default(ANN, "acme", setup.acme_card)
    pay.payment_methods.make_default(PETER, "initech", setup.initech_card)
    return setup


def add_card(pay: Services, stripe_api: Stripe, setup: Setup, number: str) -> str:
    card = stripe_api.card(setup.acme_customer, number)
    pay.payment_methods.list(ANN, "acme", refresh=True)
    return card


@pytest.fixture
def http(pay: Services, pay_settings: Settings) -> Iterator[TestClient]:
    """The Stripe routes of the app, as ``bot/http.py`` mounts them."""
    with TestClient(Starlette(routes=stripe_routes(pay, pay_settings))) as client:
        yield client


def signed(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, str]:
    """A body and ``Stripe-Signature`` header as Stripe would send them."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={mac}"


def event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "type": event_type, "data": {"object": obj}}


@pytest.fixture(scope="session")
def webhook_inbox(localstripe_server: LocalStripe) -> Iterator[HttpReceiver]:  # noqa: F811
    """Where localstripe delivers its signed events for these tests (registered once)."""
    with HttpReceiver() as receiver:
        localstripe_server.register_webhook(
            receiver.url("/stripe/webhook"), WEBHOOK_SECRET, webhook_id="billing_payments_tests"
        )
        yield receiver
