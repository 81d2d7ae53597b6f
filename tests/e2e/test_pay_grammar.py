"""``/billing pay <text>`` and unknown text, as a person types them (signed HTTP into the running bot)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.bot_fixtures import World


def _pay_modal(world: World) -> dict[str, Any]:
    world.bot.wait_calls("views.open")
    return world.bot.last_view(where=lambda view: view.get("callback_id") == "pay_modal")


def _reply(world: World, text: str) -> str:
    _response, url = world.bot.command(text)
    [reply] = world.bot.replies(url)
    assert reply["response_type"] == "ephemeral"
    return json.dumps(reply, ensure_ascii=False)


@pytest.mark.parametrize("typed", ["inv-2", "Inv-2", "INV-2", " inv-2 "])
def test_pay_with_an_invoice_number_in_any_case_confirms_that_invoice(world: World, typed: str) -> None:
    world.bot.command(f"pay {typed}")
    view = _pay_modal(world)
    assert view["submit"]["text"] == "Pay $500.50"
    assert json.loads(view["private_metadata"])["invoice"] == "INV-2"


@pytest.mark.parametrize("typed", ["1750.50", "$1,750.50", "1,750.50", "USD 1750.5"])
def test_pay_an_amount_equal_to_the_whole_balance_confirms_the_full_balance(world: World, typed: str) -> None:
    world.bot.command(f"pay {typed}")
    view = _pay_modal(world)
    assert view["submit"]["text"] == "Pay $1,750.50"
    assert "invoice" not in json.loads(view["private_metadata"])
    assert world.stripe.intents() == []


def test_pay_an_amount_equal_to_one_invoice_confirms_that_invoice(world: World) -> None:
    world.bot.command("pay $1,250")
    view = _pay_modal(world)
    assert view["submit"]["text"] == "Pay $1,250.00"
    assert json.loads(view["private_metadata"])["invoice"] == "INV-1"


def test_an_amount_equal_to_the_balance_is_confirmed_even_when_answered_in_the_acknowledgement(world: World) -> None:
    _reply(world, "balance")  # the identity is cached: the next command could be answered in the ack
    response, url = world.bot.command("pay 1750.50")
    assert response.text == "" and not world.bot.answered_in_ack(url)
    assert _pay_modal(world)["submit"]["text"] == "Pay $1,750.50"


def test_any_other_amount_is_a_partial_payment_refused_with_the_offer_to_escalate(world: World) -> None:
    text = _reply(world, "pay 1750")
    assert "whole invoice or the full open balance" in text and "partial_payment" in text
    assert world.slack.calls("views.open") == [] and world.stripe.intents() == []


def test_pay_naming_no_open_invoice_says_so_and_lists_the_open_invoices(world: World) -> None:
    text = _reply(world, "pay INV-DOESNOTEXIST")
    assert "No open invoice INV-DOESNOTEXIST" in text
    assert "INV-1" in text and "INV-2" in text and "Partial payment" not in text
    assert world.slack.calls("views.open") == [] and world.stripe.intents() == []


def test_pay_naming_a_paid_invoice_says_it_has_been_paid(world: World) -> None:
    text = _reply(world, "pay inv-0")
    assert "No open invoice inv-0: it has been paid" in text and "INV-1" in text
    assert world.slack.calls("views.open") == []


def test_unknown_text_says_it_was_not_understood_before_the_help(world: World) -> None:
    reply = json.loads(_reply(world, "refund everything"))
    first = json.dumps(reply["blocks"][0], ensure_ascii=False)
    assert "didn't understand" in first and "refund everything" in first
    assert "pay balance" in json.dumps(reply["blocks"][1:])
    assert "Acme" not in json.dumps(reply)


def test_help_asked_for_says_nothing_about_not_understanding(world: World) -> None:
    assert "didn't understand" not in _reply(world, "help")
