"""``/billing`` subcommands over signed HTTP, answered ephemerally through response_url."""

from __future__ import annotations

import json

from tests.e2e.conftest import World
from tests.e2e.harness import ANN, HIDDEN, STRANGER, SUPPORT_EMAIL


def said(world: World, text: str, user: str = ANN) -> str:
    response, url = world.bot.command(text, user=user)
    assert response.status_code == 200
    reply = world.bot.replies(url)[0]
    assert reply["response_type"] == "ephemeral"
    return json.dumps(reply, ensure_ascii=False)


def test_the_command_is_acknowledged_with_an_empty_answer(world: World) -> None:
    response, _ = world.bot.command("")
    assert response.status_code == 200
    assert response.text == ""


def test_an_empty_command_shows_the_active_account_balance_next_invoice_and_actions(world: World) -> None:
    text = said(world, "")
    assert "Acme Corp" in text
    assert "$1,750.50" in text
    assert "INV-1" in text and "31 Oct 2026" in text
    for button in ("Pay", "Payment methods", "History", "Switch account", "Contact billing support"):
        assert f'"text": "{button}"' in text


def test_help_lists_every_subcommand(world: World) -> None:
    text = said(world, "help")
    for word in ("pay balance", "invoices", "methods", "history", "accounts", "switch", "support"):
        assert word in text


def test_unknown_text_shows_help_and_nothing_else(world: World) -> None:
    assert said(world, "refund everything") == said(world, "help")
    assert "Acme" not in said(world, "gimme")


def test_balance_shows_what_is_owed(world: World) -> None:
    text = said(world, "balance")
    assert "$1,750.50" in text and "Overdue" in text


def test_invoices_lists_each_open_invoice_with_due_date_amount_and_overdue_marker(world: World) -> None:
    text = said(world, "invoices")
    assert "INV-1" in text and "$1,250.00" in text and "overdue" in text
    assert "INV-2" in text and "$500.50" in text and "1 Dec 2026" in text
    assert "INV-0" not in text  # paid


def test_pay_lists_open_invoices_with_pay_buttons_and_the_full_balance(world: World) -> None:
    _response, url = world.bot.command("pay")
    reply = world.bot.replies(url)[0]
    buttons = [
        element
        for block in reply["blocks"]
        for element in ([block.get("accessory")] if block.get("accessory") else block.get("elements", []))
        if element and element.get("action_id") == "pay_open"
    ]
    values = [json.loads(b["value"]) for b in buttons]
    assert {"account": "acme", "invoice": "INV-1"} in values
    assert {"account": "acme", "invoice": "INV-2"} in values
    assert {"account": "acme", "balance": True} in values
    assert any(b["text"]["text"] == "Pay full balance ($1,750.50)" for b in buttons)


def test_methods_lists_cards_with_brand_last_four_expiry_and_default(world: World) -> None:
    text = said(world, "methods")
    assert "Visa •••• 4242 (exp 12/31)" in text and "default" in text
    assert "Add card" in text and "Remove" in text and "Remove this card?" in text  # confirm dialog


def test_history_starts_empty(world: World) -> None:
    assert "No payments yet." in said(world, "history")


def test_accounts_lists_every_account_of_the_caller_with_its_balance(world: World) -> None:
    text = said(world, "accounts")
    assert "Acme Corp" in text and "$1,750.50" in text
    assert "Globex" in text and "€30.00" in text
    assert "Initech" not in text


def test_switch_by_name_any_case_changes_the_remembered_active_account(world: World) -> None:
    assert "Switched to Globex" in said(world, "switch gLoBeX")
    assert "Globex" in said(world, "") and "G-7" in said(world, "invoices")


def test_switch_by_exact_id_works_and_an_unknown_one_lists_accounts_changing_nothing(world: World) -> None:
    assert "Switched to Globex" in said(world, "switch globex")
    text = said(world, "switch initech")
    assert "nothing changed" in text and "Globex" in text
    assert "G-7" in said(world, "invoices")


def test_a_partial_amount_is_refused_with_an_offer_to_contact_support(world: World) -> None:
    _response, url = world.bot.command("pay 100")
    reply = world.bot.replies(url)[0]
    text = json.dumps(reply)
    assert "whole invoice or the full open balance" in text
    support = [
        e for b in reply["blocks"] for e in b.get("elements", []) if e.get("action_id") == "support_open"
    ]
    assert support and json.loads(support[0]["value"])["topic"] == "partial_payment"
    assert world.stripe.intents() == []


def test_support_is_handed_to_the_escalations_capability_and_answered_privately(world: World) -> None:
    text = said(world, "support")
    assert "support" in text.lower() and "Initech" not in text


def test_support_for_someone_who_is_not_a_contact_is_the_same_refusal(world: World) -> None:
    assert SUPPORT_EMAIL in said(world, "support please help", user=STRANGER)


def test_someone_who_is_not_a_billing_contact_is_refused_without_any_account_data(world: World) -> None:
    for text in ("", "balance", "accounts", "pay"):
        reply = said(world, text, user=STRANGER)
        assert SUPPORT_EMAIL in reply
        assert "Acme" not in reply and "$" not in reply


def test_someone_whose_email_slack_does_not_show_is_refused_the_same_way(world: World) -> None:
    assert said(world, "", user=HIDDEN) == said(world, "", user=STRANGER)
