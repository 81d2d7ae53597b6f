"""Forged values in actions and views: refused like stale ones, nothing charged or changed, audited."""

from __future__ import annotations

import json

from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN_ACTOR, PETER_ACTOR


def forgeries(world: World) -> list[str]:
    return [e.target or "" for e in world.bot.services.audit.entries() if e.action == "forgery.refused"]


def test_a_pay_button_for_another_customers_invoice_is_refused(world: World) -> None:
    world.bot.press("pay_open", {"account": "initech", "invoice": "I-1"})
    view = world.bot.last_view(where=lambda v: "out of date" in json.dumps(v))
    assert "Initech" not in json.dumps(view) and "I-1" not in json.dumps(view)
    assert "initech" in forgeries(world)
    assert world.stripe.intents() == []


def test_an_invoice_number_of_another_account_under_my_account_is_refused(world: World) -> None:
    world.bot.press("pay_open", {"account": "acme", "invoice": "I-1"})
    world.bot.last_view(where=lambda v: "out of date" in json.dumps(v))
    assert "I-1" in forgeries(world)


def test_a_submitted_modal_naming_another_account_charges_nothing(world: World) -> None:
    view = {"id": "V_FORGED", "callback_id": "pay_modal"}
    metadata = json.dumps({"account": "initech", "invoice": "I-1"})
    response = world.bot.submit(view, method=world.acme_card, metadata=metadata)
    assert response.status_code == 200
    world.bot.last_view(where=lambda v: "out of date" in json.dumps(v))
    assert world.stripe.intents() == []
    assert world.bot.services.accounts.invoice(PETER_ACTOR, "initech", "I-1").status == "open"


def test_paying_with_another_customers_card_charges_nothing(world: World) -> None:
    view = {"id": "V_FORGED", "callback_id": "pay_modal"}
    metadata = json.dumps({"account": "acme", "invoice": "INV-1"})
    world.bot.submit(view, method=world.initech_card, metadata=metadata)
    text = json.dumps(world.bot.last_view(where=lambda v: "out of date" in json.dumps(v)))
    assert "card is no longer on the account" in text
    assert world.stripe.intents() == []
    assert world.initech_card in forgeries(world)


def test_a_forged_balance_amount_charges_nothing(world: World) -> None:
    view = {"id": "V_FORGED", "callback_id": "pay_modal"}
    metadata = json.dumps({"account": "acme", "balance": True, "expected": 100})
    world.bot.submit(view, method=world.acme_card, metadata=metadata)
    world.bot.last_view(where=lambda v: "balance changed" in json.dumps(v))
    assert world.stripe.intents() == []


def test_removing_or_defaulting_another_customers_card_changes_nothing(world: World) -> None:
    value = {"account": "acme", "method": world.initech_card}
    _, url = world.bot.press("method_remove", value)
    assert "out of date" in world.bot.reply_text(url)
    _, url = world.bot.press("method_make_default", value)
    assert "out of date" in world.bot.reply_text(url)
    _, url = world.bot.press("method_remove", {"account": "initech", "method": world.initech_card})
    assert "out of date" in world.bot.reply_text(url)
    assert world.initech_card in world.stripe.card_ids(world.initech_customer)
    assert world.stripe.default_card(world.acme_customer) == world.acme_card
    assert world.stripe.default_card(world.initech_customer) == world.initech_card


def test_switching_to_an_account_that_is_not_mine_changes_nothing(world: World) -> None:
    action = {
        "type": "static_select",
        "action_id": "switch_account",
        "block_id": "switch_account",
        "selected_option": {"text": {"type": "plain_text", "text": "Initech"}, "value": "initech"},
        "action_ts": "1.2",
    }
    _, url = world.bot.click(action)
    assert "out of date" in world.bot.reply_text(url)
    assert world.bot.services.accounts.caller(ANN_ACTOR).active.external_id == "acme"
    assert "initech" in forgeries(world)


def test_screens_for_another_account_show_nothing_of_it(world: World) -> None:
    for action_id in ("show_history", "show_methods", "show_invoices"):
        _, url = world.bot.press(action_id, {"account": "initech"})
        text = world.bot.reply_text(url)
        assert "out of date" in text and "Initech" not in text and "I-1" not in text


def test_garbage_in_a_button_value_is_out_of_date_not_an_error(world: World) -> None:
    _, url = world.bot.press("pay_open", "{not json")
    world.bot.last_view(where=lambda v: "out of date" in json.dumps(v))
    _, url = world.bot.press("show_history", "[1, 2]")
    assert "out of date" in world.bot.reply_text(url)
