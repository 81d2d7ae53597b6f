"""``/billing`` subcommands over signed HTTP, answered ephemerally in the ack body or through response_url."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, HIDDEN, STRANGER, SUPPORT_EMAIL


def said(world: World, text: str, user: str = ANN) -> str:
    response, url = world.bot.command(text, user=user)
    assert response.status_code == 200
    reply = world.bot.replies(url)[0]
    assert reply["response_type"] == "ephemeral"
    return json.dumps(reply, ensure_ascii=False)


def test_a_first_command_is_acknowledged_empty_and_answered_through_the_response_url(world: World) -> None:
    response, url = world.bot.command("")  # nobody is known yet: Slack must be asked who this is
    assert response.status_code == 200
    assert response.text == ""
    reply = world.bot.replies(url)[0]
    assert reply["response_type"] == "ephemeral" and "$1,750.50" in json.dumps(reply)
    assert not world.bot.answered_in_ack(url)


def test_the_same_persons_next_command_is_answered_in_the_acknowledgement(world: World) -> None:
    first = json.loads(said(world, "balance"))
    response, url = world.bot.command("balance")
    assert world.bot.answered_in_ack(url)
    second = response.json()
    assert second["response_type"] == "ephemeral"
    assert (second["text"], second["blocks"]) == (first["text"], first["blocks"])
    world.bot.wait_calls("response_url", 1)  # the first command's reply only: nothing more arrives
    assert world.slack.response_url_posts(url) == []


def test_help_is_answered_in_the_acknowledgement_even_for_a_newcomer(world: World) -> None:
    response, url = world.bot.command("help")
    assert world.bot.answered_in_ack(url)
    assert "pay balance" in response.text and response.json()["response_type"] == "ephemeral"


def test_commands_that_open_a_modal_or_may_ask_stripe_are_still_answered_after_the_ack(world: World) -> None:
    said(world, "balance")  # the identity is cached now
    for text in ("methods", "switch globex", "pay INV-2"):
        response, url = world.bot.command(text)
        assert response.status_code == 200 and response.text == "" and not world.bot.answered_in_ack(url)


def _first_read(world: World, monkeypatch: pytest.MonkeyPatch, first: Callable[[], object]) -> None:
    """Make the next read of the caller with open invoices (the one the ack tries) run ``first`` before it."""
    accounts = world.bot.services.accounts
    read = accounts.caller_with_open_invoices_and_proof
    calls: list[int] = []
    lock = threading.Lock()

    def reading(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls.append(1)
            mine = len(calls)
        if mine == 1:
            first()
        return read(*args, **kwargs)

    monkeypatch.setattr(accounts, "caller_with_open_invoices_and_proof", reading)


def test_a_read_too_slow_for_the_ack_is_answered_through_the_response_url(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    said(world, "balance")
    release = threading.Event()
    _first_read(world, monkeypatch, lambda: release.wait(30))
    try:
        response, url = world.bot.command("balance")
        assert response.status_code == 200 and response.text == ""
        reply = world.bot.replies(url)[0]
    finally:
        release.set()
    assert reply["response_type"] == "ephemeral" and "$1,750.50" in json.dumps(reply)
    assert len(world.bot.replies(url)) == 1


def test_a_read_that_fails_in_the_ack_is_answered_through_the_response_url(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    said(world, "invoices")

    def fail() -> None:
        raise RuntimeError("the database went away for a moment")

    _first_read(world, monkeypatch, fail)
    response, url = world.bot.command("invoices")
    assert response.status_code == 200 and response.text == ""
    reply = world.bot.replies(url)[0]
    assert reply["response_type"] == "ephemeral" and "INV-1" in json.dumps(reply)


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
    help_blocks = json.loads(said(world, "help"))["blocks"]
    assert json.loads(said(world, "refund everything"))["blocks"][1:] == help_blocks
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
    support = [e for b in reply["blocks"] for e in b.get("elements", []) if e.get("action_id") == "support_open"]
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
