"""Autopay over signed HTTP: status, confirmations that name the card, the change, and its DMs."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, update

from billing_core.autopay.charging import DueCharge
from billing_core.db.tables import PaymentMethodRecord
from devtools.loopback.slack_signing import stripe_signed_headers
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, ANN_ACTOR, DECLINES_AT_CHARGE, PETER, PETER_ACTOR, VISA, WEBHOOK_SECRET
from tests.support.sample_accounts import SAMPLE, invoice
from tests.support.stripe_helper import ALWAYS_AUTHENTICATE


def said(world: World, text: str) -> str:
    _, url = world.bot.command(text)
    return world.bot.reply_text(url)


def peter_also_pays_for_acme(world: World) -> None:
    sample = copy.deepcopy(SAMPLE)
    sample["accounts"][0]["contacts"].append({"email": "peter@initech.test", "name": "Peter Gibbons"})
    world.bot.services.importer.run(sample)


def autopay_on(world: World) -> bool:
    assert world.bot.services.autopay is not None
    return world.bot.services.autopay.status(ANN_ACTOR, "acme").enabled


def dms_to(world: World, user: str) -> list[str]:
    return [
        json.dumps(c.json_args, ensure_ascii=False)
        for c in world.slack.calls("chat.postMessage")
        if c.json_args.get("channel") in (user, f"D{user}")  # notices are posted to the user id
    ]


def test_billing_autopay_shows_that_it_is_off_with_a_button_to_turn_it_on(world: World) -> None:
    text = said(world, "autopay")
    assert "Autopay is off" in text and "Turn on autopay" in text


def test_autopay_on_asks_first_naming_the_card_the_account_and_what_will_happen(world: World) -> None:
    text = said(world, "autopay on")
    assert "Acme Corp" in text and "Visa •••• 4242" in text
    assert "Open invoices will be charged in full on their due date" in text
    assert not autopay_on(world)


def test_confirming_turns_autopay_on_and_the_other_contacts_are_told_by_dm(world: World) -> None:
    peter_also_pays_for_acme(world)
    _, url = world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    assert "autopay is on" in world.bot.reply_text(url)
    assert autopay_on(world)
    [told] = world.bot.wait_calls(
        "chat.postMessage", where=lambda c: c.json_args.get("channel") in (PETER, f"D{PETER}")
    )
    assert "Autopay was turned on for Acme Corp" in json.dumps(told.json_args, ensure_ascii=False)
    assert dms_to(world, ANN) == []  # the person who did it is not told again
    entries = world.bot.services.audit.entries(account_external_id="acme")
    assert [(e.action, e.actor.lower()) for e in entries if e.action.startswith("autopay.")] == [
        ("autopay.turned_on", "ann@acme.test")
    ]


def test_autopay_off_is_confirmed_too(world: World) -> None:
    world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.wait_calls("views.publish")
    assert "Turn off autopay" in said(world, "autopay off")
    assert autopay_on(world)
    _, url = world.bot.press("autopay_set", {"account": "acme", "on": False})
    assert "autopay is off" in world.bot.reply_text(url)
    assert not autopay_on(world)


def test_a_confirmation_for_a_card_that_is_no_longer_the_default_changes_nothing(world: World) -> None:
    _, url = world.bot.press("autopay_set", {"account": "acme", "on": True, "card": "pm_not_the_default"})
    assert "default card changed" in world.bot.reply_text(url)
    assert not autopay_on(world)


def test_autopay_cannot_be_turned_on_for_someone_elses_account(world: World) -> None:
    _, url = world.bot.press("autopay_set", {"account": "initech", "on": True, "card": world.initech_card})
    assert "out of date" in world.bot.reply_text(url).lower()
    assert world.bot.services.autopay is not None
    assert not world.bot.services.autopay.status(PETER_ACTOR, "initech").enabled


def test_the_methods_screen_and_the_home_tab_carry_the_autopay_toggle(world: World) -> None:
    assert "Turn on autopay" in said(world, "methods")
    world.bot.event({"type": "app_home_opened", "user": ANN, "tab": "home"})
    [home] = world.bot.wait_calls("views.publish")
    assert "Turn on autopay" in json.dumps(home.json_args, ensure_ascii=False)


def test_removing_the_last_card_of_an_autopay_account_warns_in_the_confirmation(world: World) -> None:
    _, url = world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.reply_text(url)
    assert "with no card left it will be turned off" in said(world, "methods")


def test_on_the_due_date_the_pass_charges_and_the_contacts_get_the_receipt_by_dm(world: World) -> None:
    world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.wait_calls("views.publish")
    world.slack.clear()
    world.bot.clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    try:
        assert world.bot.services.payments is not None
        assert world.bot.services.require_payments().autopay_pass.run().summary() == "charged 1, declined 0, skipped 0"
    finally:
        world.bot.clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    [receipt] = dms_to(world, ANN)
    assert "Charged by autopay" in receipt and "$500.50" in receipt and "INV-2" in receipt


def test_a_declined_autopay_charge_is_told_by_dm_with_the_reason_and_a_pay_with_another_card_button(
    world: World,
) -> None:
    autopay_with_card(world, DECLINES_AT_CHARGE)
    assert run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)) == "charged 0, declined 1, skipped 0"
    [dm] = dms_to(world, ANN)
    assert "Autopay could not charge INV-2" in dm and "declined" in dm
    assert "Pay with another card" in dm and "try again on 4 Dec 2026" in dm


def test_the_home_tab_toggle_asks_in_a_modal_that_names_the_card(world: World) -> None:
    world.bot.press("autopay_confirm", {"account": "acme", "on": True}, view={"id": "VHOME", "type": "home"})
    modal = world.bot.last_view(where=lambda v: "Turn on autopay" in json.dumps(v, ensure_ascii=False))
    shown = json.dumps(modal, ensure_ascii=False)
    assert "Visa •••• 4242" in shown and "Open invoices will be charged in full on their due date" in shown
    assert not autopay_on(world)


def run_pass_on(world: World, day: datetime) -> str:
    world.bot.clock.set(day)
    try:
        assert world.bot.services.payments is not None
        return world.bot.services.require_payments().autopay_pass.run().summary()
    finally:
        world.bot.clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


def autopay_with_card(world: World, number: str) -> str:
    card = world.stripe.card(world.acme_customer, number)
    methods = world.bot.services.require_payments().methods
    assert methods is not None and world.bot.services.autopay is not None
    methods.list(ANN_ACTOR, "acme", refresh=True)
    methods.make_default(ANN_ACTOR, "acme", card)
    world.bot.services.autopay.turn_on(ANN_ACTOR, "acme")
    return card


def test_autopay_on_a_card_whose_bank_wants_3ds_dms_a_confirm_link_and_does_not_retry(world: World) -> None:
    autopay_with_card(world, ALWAYS_AUTHENTICATE)
    assert run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)) == "charged 0, declined 1, skipped 0"
    [intent] = world.stripe.intents()
    assert world.proxy.strict.created_with(intent["id"])["off_session"] == ["true"]  # merchant-initiated
    assert world.proxy.intent(intent["id"])["status"] == "requires_payment_method"
    [dm] = dms_to(world, ANN)
    assert "Your bank asks you to confirm the autopay charge of INV-2" in dm
    assert "http://bot.test/stripe/authenticate/" in dm
    for day in (4, 8):  # the retry days of a decline: nothing more is tried
        run_pass_on(world, datetime(2026, 12, day, 15, 0, tzinfo=UTC))
    assert len(world.stripe.intents()) == 1
    assert world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-2").status == "open"


def autopay_charge_confirmed_with_the_bank(world: World) -> tuple[str, dict[str, Any]]:
    """Autopay on a 3-D Secure card, its DM's link opened, and the customer confirming with the bank
    (what Stripe.js does on the page); returns the link and the intent as Stripe then has it."""
    autopay_with_card(world, ALWAYS_AUTHENTICATE)
    run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    [dm] = dms_to(world, ANN)
    link = dm.split("http://bot.test", 1)[1].split('"', 1)[0]
    [intent] = world.stripe.intents()
    assert "Your bank asks you to confirm" in world.bot.http.get(link).text
    world.proxy.confirm_on_session(intent["id"])
    return link, world.stripe.server.authenticate_payment_intent(intent["id"], intent["client_secret"])


def test_confirming_the_autopay_charge_on_the_page_pays_the_invoice_once_and_sends_the_receipt(
    world: World,
) -> None:
    link, _ = autopay_charge_confirmed_with_the_bank(world)
    assert "is complete" in world.bot.http.post(link, follow_redirects=True).text
    assert world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-2").status == "paid"
    world.slack.clear()
    run_pass_on(world, datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    assert any("Charged by autopay" in dm for dm in dms_to(world, ANN))
    assert len(world.stripe.succeeded_charges()) == 1


def acme_gets_a_second_invoice_due_on_the_first(world: World) -> None:
    sample = copy.deepcopy(SAMPLE)
    sample["accounts"][0]["invoices"].append(invoice("INV-3", "2026-11-02", "2026-12-01", 7000))
    world.bot.services.importer.run(sample)


def test_a_decline_the_bank_says_not_to_try_again_is_not_retried_and_asks_for_another_card(world: World) -> None:
    card = autopay_with_card(world, VISA)
    world.proxy.strict.issuer_declines(card, "generic_decline", advice_code="do_not_try_again")
    assert run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)) == "charged 0, declined 1, skipped 0"
    [dm] = dms_to(world, ANN)
    assert "Autopay could not charge INV-2" in dm and "We won't try again automatically" in dm
    assert "Add card" in dm or "Add a card" in dm
    for day in (4, 8):
        run_pass_on(world, datetime(2026, 12, day, 15, 0, tzinfo=UTC))
    assert len(world.stripe.intents()) == 1


def test_a_lost_card_is_not_retried_either(world: World) -> None:
    card = autopay_with_card(world, VISA)
    world.proxy.strict.issuer_declines(card, "lost_card")
    run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    run_pass_on(world, datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    assert len(world.stripe.intents()) == 1


def test_a_soft_decline_is_still_retried_on_the_retry_day(world: World) -> None:
    card = autopay_with_card(world, VISA)
    world.proxy.strict.issuer_declines(card, "insufficient_funds", advice_code="try_again_later")
    run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    run_pass_on(world, datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    assert len(world.stripe.intents()) == 2


def test_turning_autopay_off_during_a_pass_charges_nothing_more(world: World) -> None:
    acme_gets_a_second_invoice_due_on_the_first(world)
    world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.wait_calls("views.publish")
    autopay_pass = world.bot.services.require_payments().autopay_pass
    assert autopay_pass is not None
    planned = autopay_pass.plan

    def plan_then_switch_off() -> list[DueCharge]:
        due = planned()
        assert len(due) == 2
        _, url = world.bot.press("autopay_set", {"account": "acme", "on": False})  # Ann, mid-pass
        assert "autopay is off" in world.bot.reply_text(url)
        return due

    autopay_pass.plan = plan_then_switch_off  # type: ignore[method-assign]
    try:
        assert run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)) == "charged 0, declined 0, skipped 2"
    finally:
        del autopay_pass.plan
    assert world.stripe.intents() == []


def test_an_invoice_reported_already_paid_is_not_autopaid(world: World) -> None:
    world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.wait_calls("views.publish")
    world.bot.services.reminders.already_paid(ANN_ACTOR, "acme", "INV-2")  # the reminder's "I've already paid"
    assert run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)) == "charged 0, declined 0, skipped 0"
    assert world.stripe.intents() == []


def forget_the_local_card_copy(world: World) -> None:
    with world.bot.db.transaction() as session:
        session.execute(delete(PaymentMethodRecord))


def test_autopay_on_names_stripes_default_card_on_the_first_try_when_the_local_copy_is_empty(world: World) -> None:
    forget_the_local_card_copy(world)
    text = said(world, "autopay on")
    assert "Visa •••• 4242" in text and "needs a default card" not in text


def test_autopay_on_names_a_default_card_set_in_stripe_that_the_local_copy_does_not_know(world: World) -> None:
    with world.bot.db.transaction() as session:  # the copy knows the card, not that it is the default
        session.execute(update(PaymentMethodRecord).values(is_default=False))
    text = said(world, "autopay on")
    assert "Visa •••• 4242" in text and "needs a default card" not in text


def test_the_pass_charges_stripes_default_card_when_the_local_copy_is_empty(world: World) -> None:
    world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.wait_calls("views.publish")
    forget_the_local_card_copy(world)
    assert run_pass_on(world, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)) == "charged 1, declined 0, skipped 0"


def test_an_autopay_charge_confirmed_on_session_settles_once_whether_the_webhook_page_or_reconcile_comes_first(
    world: World,
) -> None:
    link, settled = autopay_charge_confirmed_with_the_bank(world)
    payload = json.dumps(world.proxy.event("payment_intent.succeeded", settled)).encode()
    assert (
        world.bot.http.post(
            "/stripe/webhook", content=payload, headers=stripe_signed_headers(WEBHOOK_SECRET, payload)
        ).status_code
        == 200
    )
    assert "is complete" in world.bot.http.post(link, follow_redirects=True).text
    assert world.bot.services.payments is not None
    world.bot.services.require_payments().service.reconcile()
    world.slack.clear()
    run_pass_on(world, datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    run_pass_on(world, datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    assert len([d for d in dms_to(world, ANN) if "Charged by autopay" in d]) == 1
    assert len(world.stripe.succeeded_charges()) == 1 and len(world.stripe.intents()) == 1
    invoice = world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-2")
    assert invoice.status == "paid" and invoice.amount_paid.amount_minor == 50050
