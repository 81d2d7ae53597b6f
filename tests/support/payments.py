"""Payment fixtures: localstripe behind the strict Stripe stand-in, two sample accounts, services wired
to them, a recording notifier. Registered for every test by ``pytest_plugins`` in tests/conftest.py."""

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
from starlette.applications import Starlette
from starlette.testclient import TestClient

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.notifications import CardAdded, PrincipalNotice
from billing_core.payments.ports import PaymentGateway
from billing_core.views import PaymentMethodView, PaymentView
from bot.compose import build_services
from bot.settings import Settings
from bot.web.stripe_routes import stripe_routes
from tests.support.http_receiver import HttpReceiver
from tests.support.localstripe_server import LocalStripe
from tests.support.sample_accounts import ANN, PETER, SAMPLE
from tests.support.services import MakeServices
from tests.support.stripe_helper import DECLINES_AT_CHARGE, NEEDS_AUTHENTICATION, VISA, give_sample_cards
from tests.support.stripe_helper import SampleCards as Setup  # the names the payment tests use
from tests.support.stripe_helper import StripeHelper as Stripe
from tests.support.stripe_proxy import StripeProxy

__all__ = [
    "ANN",
    "DECLINES_AT_CHARGE",
    "NEEDS_AUTHENTICATION",
    "PETER",
    "VISA",
    "RecordingNotifier",
    "Setup",
    "Stripe",
    "add_card",
    "event",
    "services_with",
    "settings_for",
    "signed",
]

WEBHOOK_SECRET = "whsec_payments_tests"


@dataclass
class RecordingNotifier:
    """Remembers what it was asked to tell whom (used in addition to real components)."""

    settled: list[tuple[str, str, PaymentView]] = field(default_factory=list)
    cards: list[tuple[str, str, PaymentMethodView]] = field(default_factory=list)

    def tell_principal(self, principal: str, message: PrincipalNotice) -> None:
        if isinstance(message, CardAdded):
            self.cards.append((principal, message.account_name, message.card))
        else:
            self.settled.append((principal, message.account_name, message.payment))


@pytest.fixture
def strict_stripe(localstripe: LocalStripe) -> Iterator[StripeProxy]:
    """The strict Stripe stand-in in front of localstripe: what the bot's gateway talks to."""
    with StripeProxy(localstripe.base_url) as proxy:
        yield proxy


@pytest.fixture
def stripe_api(localstripe: LocalStripe, strict_stripe: StripeProxy) -> Stripe:
    return Stripe(localstripe, api_base=strict_stripe.base_url)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


def settings_for(database_url: str, api_base: str) -> Settings:
    return Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        STRIPE_API_KEY="sk_test_x",
        STRIPE_API_BASE=api_base,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        PUBLIC_URL="http://bot.test",
    )


@pytest.fixture
def pay_settings(database_url: str, strict_stripe: StripeProxy) -> Settings:
    return settings_for(database_url, strict_stripe.base_url)


@pytest.fixture
def pay(pay_settings: Settings, make_services: MakeServices, notifier: RecordingNotifier) -> Services:
    """Services on the sample accounts, talking to localstripe."""
    return make_services(settings=pay_settings, notifier=notifier, accounts=SAMPLE)


def services_with(
    pay_settings: Settings, db: Database, clock: FixedClock, notifier: RecordingNotifier, gateway: PaymentGateway
) -> Services:
    """Services on the same database with another gateway (a faulty one, say)."""
    return build_services(pay_settings, clock=clock, db=db, notifier=notifier, stripe_gateway=gateway)


@pytest.fixture
def cards(pay: Services, stripe_api: Stripe, db: Database) -> Setup:
    """Each account has a Stripe customer with one Visa, listed once so the cache knows it."""
    return give_sample_cards(pay, db, stripe_api)


def add_card(pay: Services, stripe_api: Stripe, setup: Setup, number: str) -> str:
    card = stripe_api.card(setup.acme_customer, number)
    pay.require_payments().methods.list(ANN, "acme", refresh=True)
    return card


@pytest.fixture
def http(pay: Services, pay_settings: Settings) -> Iterator[TestClient]:
    """The Stripe routes of the app, as ``bot/web/http.py`` mounts them."""
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
def webhook_inbox(localstripe_server: LocalStripe) -> Iterator[HttpReceiver]:
    """Where localstripe delivers its signed events for these tests (registered once)."""
    with HttpReceiver() as receiver:
        localstripe_server.register_webhook(
            receiver.url("/stripe/webhook"), WEBHOOK_SECRET, webhook_id="billing_payments_tests"
        )
        yield receiver
