"""Cards added or removed in Stripe outside the bot, with no webhook, show when a person asks
(signed HTTP into the running bot, cards attached and detached directly in localstripe)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.support.bot_fixtures import World

MASTERCARD = "5555555555554444"


@pytest.fixture
def later(world: World) -> Iterator[Any]:
    """Moves the bot's clock on; put back afterwards (the server is shared by the module)."""
    start = world.bot.clock.now()
    yield lambda seconds: world.bot.clock.set(start + timedelta(seconds=seconds))
    world.bot.clock.set(start)


def _methods(world: World) -> str:
    _response, url = world.bot.command("methods")
    [reply] = world.bot.replies(url)
    return json.dumps(reply, ensure_ascii=False)


def _picker(world: World) -> str:
    world.slack.clear()  # the modal of this press, not an earlier one
    world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
    view = world.bot.last_view(where=lambda v: v.get("callback_id") == "pay_modal")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "pay_method")
    return json.dumps(picker, ensure_ascii=False)


def test_a_card_attached_in_stripe_without_a_webhook_is_listed_by_billing_methods(world: World) -> None:
    assert "4444" not in _methods(world)  # the bot has seen the cards once
    world.stripe.card(world.acme_customer, MASTERCARD)  # straight to Stripe: the bot is not told
    assert "•••• 4444" in _methods(world)


def test_a_card_detached_in_stripe_without_a_webhook_leaves_billing_methods(world: World) -> None:
    card = world.stripe.card(world.acme_customer, MASTERCARD)
    assert "•••• 4444" in _methods(world)
    world.stripe.client.v1.payment_methods.detach(card)
    text = _methods(world)
    assert "4444" not in text and "Visa •••• 4242" in text


def test_the_pay_picker_shows_a_card_attached_in_stripe_once_its_copy_is_a_minute_old(world: World, later: Any) -> None:
    assert "4444" not in _picker(world)
    world.stripe.card(world.acme_customer, MASTERCARD)
    later(61)
    assert "4444" in _picker(world)


def test_the_pay_picker_opens_at_once_from_a_copy_under_a_minute_old(world: World, later: Any) -> None:
    _methods(world)  # asked Stripe just now
    later(30)
    _picker(world)
    world.slack.wait_for("views.open")  # opened with the click itself (issue 28: trigger ids expire)
    [filled] = world.slack.calls("views.update")  # filled once, from the copy: no second wait on Stripe
    assert filled.json_args["view"].get("callback_id") == "pay_modal"
