"""The 3-D Secure and card pages cannot be framed or sniffed, run only Stripe.js and our own
nonce-tagged script, and their links expire (issue 19, item 16).

Real parts: localstripe, the database, the payment services and the Stripe routes as ``serve``
mounts them; the clock is moved past the link's lifetime.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from billing_core.clock import FixedClock
from billing_core.container import Services
from bot.settings import Settings
from bot.web.stripe_routes import stripe_routes
from tests.support.localstripe_server import LocalStripe
from tests.support.payments import (
    ANN,
    NEEDS_AUTHENTICATION,
    RecordingNotifier,
    Setup,
    Stripe,
    add_card,
    settings_for,
)
from tests.support.sample_accounts import SAMPLE
from tests.support.services import MakeServices

PUBLISHABLE = "pk_test_page"


@pytest.fixture
def pay_settings(database_url: str, localstripe: LocalStripe) -> Settings:
    return settings_for(database_url, localstripe.base_url).model_copy(update={"stripe_publishable_key": PUBLISHABLE})


@pytest.fixture
def pay(pay_settings: Settings, make_services: MakeServices, notifier: RecordingNotifier) -> Services:
    return make_services(settings=pay_settings, notifier=notifier, accounts=SAMPLE)


@pytest.fixture
def http(pay: Services, pay_settings: Settings) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=stripe_routes(pay, pay_settings))) as client:
        yield client


def waiting_link(pay: Services, stripe_api: Stripe, cards: Setup) -> str:
    card = add_card(pay, stripe_api, cards, NEEDS_AUTHENTICATION)
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", card)
    waiting = pay.require_payments().service.execute(started.id)
    assert waiting.status == "requires_action" and waiting.action_url is not None
    return waiting.action_url.removeprefix("http://bot.test")


def assert_hardened(response: httpx.Response) -> None:
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_authentication_page_cannot_be_framed_and_runs_only_stripe_js_and_its_own_nonce(
    pay: Services, stripe_api: Stripe, cards: Setup, http: TestClient
) -> None:
    page = http.get(waiting_link(pay, stripe_api, cards))
    assert page.status_code == 200 and PUBLISHABLE in page.text
    assert_hardened(page)
    policy = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None and "https://js.stripe.com" in policy
    inline = re.findall(r"<script(?![^>]*src=)([^>]*)>", page.text)
    assert inline and all(f'nonce="{nonce.group(1)}"' in attributes for attributes in inline)
    assert "'unsafe-inline'" not in policy


def test_every_card_and_link_page_and_the_redirect_carry_the_same_protections(
    pay: Services, stripe_api: Stripe, cards: Setup, http: TestClient
) -> None:
    path = waiting_link(pay, stripe_api, cards)
    for response in (
        http.get("/stripe/card-setup/done"),
        http.get("/stripe/card-setup/cancelled"),
        http.get("/stripe/authenticate/1.2.nonsense"),
        http.post(path, follow_redirects=False),
    ):
        assert_hardened(response)


def test_an_authentication_link_stops_working_once_its_lifetime_is_over(
    pay: Services, stripe_api: Stripe, cards: Setup, http: TestClient, clock: FixedClock
) -> None:
    path = waiting_link(pay, stripe_api, cards)
    clock.set(clock.now() + timedelta(hours=23, minutes=59))
    assert http.get(path).status_code == 200
    clock.set(clock.now() + timedelta(minutes=1))
    expired = http.get(path)
    assert expired.status_code == 404 and "not valid" in expired.text
    assert http.post(path, follow_redirects=False).status_code == 404


def test_a_link_whose_expiry_was_pushed_back_by_hand_is_refused(
    pay: Services, stripe_api: Stripe, cards: Setup, http: TestClient
) -> None:
    payment_id, expires, mac = waiting_link(pay, stripe_api, cards).rsplit("/", 1)[1].split(".")
    extended = f"/stripe/authenticate/{payment_id}.{int(expires) + 86_400}.{mac}"
    assert http.get(extended).status_code == 404
