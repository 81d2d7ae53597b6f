"""Stripe's receipt page (the charge's ``receipt_url``) in the payment DM and the history, when
Stripe gives one. localstripe gives none; a gateway that adds one, as real Stripe does, covers the
present case."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.payments.intents import Intent, intent_from
from bot.settings import Settings
from handlers.kit.payment_outcome import outcome_screen
from handlers.payments.blocks import history_screen
from tests.support.payments import ANN, RecordingNotifier, Setup, Stripe, services_with

RECEIPT = "https://pay.stripe.com/receipts/payment/CAcaFwoVYWNjdF8x"


class WithReceipts(StripeGateway):
    """The real gateway (localstripe), with the receipt page real Stripe puts on the charge."""

    def __init__(self, api_base: str) -> None:
        super().__init__("sk_test_x", api_base=api_base)

    def charge(self, **kwargs: Any) -> Intent:
        return replace(super().charge(**kwargs), receipt_url=RECEIPT)


def receipt_links(blocks: Any) -> list[str]:
    text = json.dumps(blocks)
    return [RECEIPT] * text.count(json.dumps(RECEIPT))


def test_stripes_receipt_link_shows_in_the_dm_and_the_history_when_stripe_gives_one(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    stripe_like = services_with(pay_settings, db, clock, notifier, WithReceipts(stripe_api.api_base))
    assert stripe_like.payments is not None
    done = stripe_like.require_payments().service.execute(
        stripe_like.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card).id
    )
    assert done.receipt_url == RECEIPT
    dm = outcome_screen(done, "Acme Corp")
    assert receipt_links(dm.blocks) == [RECEIPT] and "View receipt" in json.dumps(dm.blocks)
    [paid] = pay.history.page(ANN, "acme").items
    assert paid.receipt_url == RECEIPT
    account = pay.accounts.account(ANN, "acme")
    assert receipt_links(history_screen(account, pay.history.page(ANN, "acme")).blocks) == [RECEIPT]


def test_without_a_receipt_from_stripe_there_is_simply_no_link(
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    plain_localstripe = StripeGateway("sk_test_x", api_base=stripe_api.server.base_url)
    bare = services_with(pay_settings, db, clock, notifier, plain_localstripe)
    assert bare.payments is not None
    done = bare.require_payments().service.execute(
        bare.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card).id
    )
    assert done.status == "succeeded" and done.receipt_url is None  # localstripe's charges have none
    assert "View receipt" not in json.dumps(outcome_screen(done, "Acme Corp").blocks)


def test_the_receipt_url_is_read_from_the_expanded_latest_charge_only_when_it_is_http() -> None:
    base = {"id": "pi_1", "status": "succeeded", "amount": 100, "currency": "usd"}
    assert intent_from(base | {"latest_charge": {"id": "ch_1", "receipt_url": RECEIPT}}).receipt_url == RECEIPT
    assert intent_from(base | {"latest_charge": "ch_1"}).receipt_url is None
    assert intent_from(base | {"latest_charge": {"receipt_url": "javascript:x"}}).receipt_url is None
    assert intent_from(base).receipt_url is None
