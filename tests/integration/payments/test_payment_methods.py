"""Listing, making default, removing and adding cards, reflected in localstripe."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, CardSetupRecord
from billing_core.errors import LastPaymentMethodInUse, PaymentInProgress, PaymentMethodNotFound
from bot.settings import Settings
from devtools.loopback.server import Reply, Request, StandInServer
from tests.support.payments import ANN, PETER, RecordingNotifier, Setup, Stripe, services_with


def test_the_list_shows_the_customers_cards_default_first(pay: Services, cards: Setup, stripe_api: Stripe) -> None:
    second = stripe_api.card(cards.acme_customer, "5555555555554444")
    cached = pay.require_payments().methods.list(ANN, "acme")
    fresh = pay.require_payments().methods.list(ANN, "acme", refresh=True)

    assert [c.id for c in cached] == [cards.acme_card]
    assert [(c.id, c.is_default) for c in fresh] == [(cards.acme_card, True), (second, False)]
    assert fresh[1].label.endswith("•••• 4444 (exp 12/31)")


def test_making_a_card_default_sets_it_on_the_stripe_customer(pay: Services, cards: Setup, stripe_api: Stripe) -> None:
    second = stripe_api.card(cards.acme_customer, "5555555555554444")
    result = pay.require_payments().methods.make_default(ANN, "acme", second)

    assert stripe_api.default_card(cards.acme_customer) == second
    assert [(c.id, c.is_default) for c in result] == [(second, True), (cards.acme_card, False)]


def test_removing_a_card_detaches_it_and_the_next_card_becomes_default(
    pay: Services, cards: Setup, stripe_api: Stripe
) -> None:
    second = stripe_api.card(cards.acme_customer, "5555555555554444")
    result = pay.require_payments().methods.remove(ANN, "acme", cards.acme_card)

    assert stripe_api.card_ids(cards.acme_customer) == {second}
    assert stripe_api.default_card(cards.acme_customer) == second
    assert [(c.id, c.is_default) for c in result] == [(second, True)]


def test_the_only_card_cannot_be_removed_while_invoices_are_open(
    pay: Services, cards: Setup, stripe_api: Stripe
) -> None:
    with pytest.raises(LastPaymentMethodInUse):
        pay.require_payments().methods.remove(ANN, "acme", cards.acme_card)
    assert stripe_api.card_ids(cards.acme_customer) == {cards.acme_card}
    assert [e.outcome for e in pay.audit.entries() if e.action == "card.remove"] == ["refused"]


def test_a_card_paying_an_unsettled_payment_cannot_be_removed(pay: Services, cards: Setup, stripe_api: Stripe) -> None:
    second = stripe_api.card(cards.acme_customer, "5555555555554444")
    pay.require_payments().methods.list(ANN, "acme", refresh=True)
    pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", second)
    with pytest.raises(PaymentInProgress):
        pay.require_payments().methods.remove(ANN, "acme", second)


def test_another_accounts_card_cannot_be_made_default_or_removed(
    pay: Services, cards: Setup, stripe_api: Stripe
) -> None:
    with pytest.raises(PaymentMethodNotFound):
        pay.require_payments().methods.make_default(ANN, "acme", cards.initech_card)
    with pytest.raises(PaymentMethodNotFound):
        pay.require_payments().methods.remove(ANN, "acme", cards.initech_card)
    with pytest.raises(PaymentMethodNotFound):
        pay.require_payments().methods.remove(PETER, "initech", "pm_does_not_exist")
    assert stripe_api.card_ids(cards.initech_customer) == {cards.initech_card}
    assert stripe_api.default_card(cards.acme_customer) == cards.acme_card


class CheckoutStandIn(StandInServer):
    """Answers like Stripe for customers and Checkout Sessions, and records what it was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []

    def answer(self, request: Request) -> Reply:
        self.requests.append((request.path, urllib.parse.parse_qs(request.body.decode()), request.headers))
        if request.path == "/v1/customers":
            return Reply.json({"id": "cus_standin", "object": "customer"})
        session_id = f"cs_test_standin{len(self.requests)}"
        return Reply.json(
            {
                "id": session_id,
                "object": "checkout.session",
                "mode": "setup",
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            }
        )

    @property
    def base_url(self) -> str:
        return self.root_url


@pytest.fixture
def checkout() -> Iterator[CheckoutStandIn]:
    with CheckoutStandIn() as stand_in:
        yield stand_in


def test_adding_a_card_creates_the_customer_once_and_a_setup_checkout_page(
    pay: Services,
    pay_settings: Settings,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    checkout: CheckoutStandIn,
) -> None:
    hosted = services_with(pay_settings, db, clock, notifier, StripeGateway("sk_test_x", api_base=checkout.base_url))

    url = hosted.require_payments().methods.start_add_card(ANN, "acme")
    hosted.require_payments().methods.start_add_card(ANN, "acme")

    assert url == "https://checkout.stripe.test/c/pay/cs_test_standin2"
    paths = [path for path, _, _ in checkout.requests]
    assert paths == ["/v1/customers", "/v1/checkout/sessions", "/v1/checkout/sessions"]
    form = checkout.requests[1][1]
    assert form["mode"] == ["setup"]
    assert form["customer"] == ["cus_standin"]
    assert form["success_url"] == ["http://bot.test/stripe/card-setup/done"]
    assert form["metadata[billing_account]"] == ["acme"]
    assert not any("card[" in key or "number" in key for key in form)
    with db.read() as session:
        account = session.scalars(select(AccountRecord).where(AccountRecord.external_id == "acme")).one()
        assert account.stripe_customer_id == "cus_standin"
        setups = session.scalars(select(CardSetupRecord)).all()
        assert [(s.requested_by_principal, s.status) for s in setups] == [(ANN.principal, "open")] * 2
