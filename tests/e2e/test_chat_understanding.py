"""Chat understanding how billing contacts write (issue 26), over signed HTTP into the running app:
invoices named by month or amount, partial payments, paid elsewhere, another account of theirs,
short answers to the bot's question, and nothing of another customer's ever resolved."""

from __future__ import annotations

import json

from sqlalchemy import delete, select

from billing_core.db.tables import ChatQuestionRecord, EscalationRecord, PaymentMethodRecord
from devtools.loopback.slack_api import RecordedCall
from tests.e2e.test_chat import buttons, dm, said, text_of
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, PETER


def _pay_buttons(call: RecordedCall) -> list[dict[str, object]]:
    return [json.loads(str(b["value"])) for b in buttons(call, "pay_open")]


def test_an_invoice_named_by_its_month_or_amount_offers_its_pay_button_and_charges_nothing(world: World) -> None:
    november = said(world, dm("I want to pay the november invoice"))
    assert _pay_buttons(november) == [{"account": "acme", "invoice": "INV-2"}]
    by_amount = said(world, dm("pay the $1,250 one"))
    assert _pay_buttons(by_amount) == [{"account": "acme", "invoice": "INV-1"}]
    due = said(world, dm("when is the october invoice due"))
    assert "INV-1" in text_of(due) and "31 Oct 2026" in text_of(due)
    assert world.stripe.intents() == []


def test_a_short_answer_to_which_one_is_understood_from_the_question_kept_in_the_database(world: World) -> None:
    asked = said(world, dm("pay INV"))
    assert "Which one: INV-1 or INV-2?" in text_of(asked)
    with world.bot.db.read() as session:  # any replica reads the question from here
        [(user, question)] = session.execute(select(ChatQuestionRecord.user_id, ChatQuestionRecord.question)).all()
    assert user == ANN and "INV-1" in question and "INV-2" in question
    second = said(world, dm("the second"))
    assert _pay_buttons(second) == [{"account": "acme", "invoice": "INV-2"}]
    assert world.stripe.intents() == []  # a typed answer opens the Pay button, never a payment


def test_a_partial_payment_is_explained_and_support_is_offered_with_the_amount_and_invoice_filled_in(
    world: World,
) -> None:
    answer = said(world, dm("pay 200 dollars toward INV-1"))
    assert "only pay a whole invoice or the full open balance" in text_of(answer)
    [support] = buttons(answer, "support_open")
    value = json.loads(support["value"])
    assert value["invoice"] == "INV-1" and value["topic"] == "payment_plan" and "$200.00" in value["message"]
    with world.bot.db.read() as session:
        assert list(session.scalars(select(EscalationRecord))) == []  # nothing sent before the person sends it


def test_paid_by_wire_reaches_ive_already_paid_and_a_yes_only_reopens_its_button(world: World) -> None:
    answer = said(world, dm("we paid the november invoice by wire last week"))
    assert "Tell billing support you've paid it?" in text_of(answer)
    [paid] = buttons(answer, "reminder_already_paid")
    assert json.loads(paid["value"]) == {"account": "acme", "invoice": "INV-2"}
    again = said(world, dm("yes"))
    assert [json.loads(b["value"]) for b in buttons(again, "reminder_already_paid")] == [
        {"account": "acme", "invoice": "INV-2"}
    ]
    with world.bot.db.read() as session:
        assert list(session.scalars(select(EscalationRecord))) == []  # told only after the click and its confirm


def test_another_account_of_theirs_named_in_a_request_is_answered_for_it_and_says_so(world: World) -> None:
    answer = said(world, dm("what does globex owe"))
    assert "For Globex" in text_of(answer) and "€30.00" in text_of(answer)
    contacts = said(world, dm("who else gets these billing messages"))
    assert "Ann Lee" in text_of(contacts) and "peter@initech.test" not in text_of(contacts)


def test_another_customers_invoice_account_and_card_resolve_to_nothing(world: World) -> None:
    invoice = said(world, dm("pay INV-2", user=PETER))  # Ann's invoice, typed by Peter of Initech
    assert all(b.get("invoice") != "INV-2" for b in _pay_buttons(invoice)) and "$500.50" not in text_of(invoice)
    account = said(world, dm("what does acme corp owe", user=PETER))
    assert "No account of yours is named" in text_of(account) and "$1,750.50" not in text_of(account)
    card = said(world, dm("remove the amex", user=PETER))
    assert "No saved card of yours matches" in text_of(card)
    assert all(json.loads(b["value"])["account"] == "initech" for b in buttons(card, "method_remove"))


def _forget_local_cards(world: World) -> None:
    """The local copy of the cards empty, as before anyone ran /billing methods."""
    with world.bot.db.transaction() as session:
        session.execute(delete(PaymentMethodRecord))


def test_change_my_card_shows_the_saved_cards_from_stripe_even_before_billing_methods_ran(world: World) -> None:
    _forget_local_cards(world)
    answer = said(world, dm("change my card"))
    assert "4242" in text_of(answer) and "No saved cards" not in text_of(answer)


def test_set_up_automatic_payments_names_the_default_card_even_before_billing_methods_ran(world: World) -> None:
    _forget_local_cards(world)
    answer = said(world, dm("set up automatic payments"))
    assert "Open invoices will be charged in full on their due date" in text_of(answer) and "4242" in text_of(answer)
    assert "needs a default card" not in text_of(answer)


def test_remind_me_next_week_offers_remind_me_later_which_pauses_that_invoice_on_its_click(world: World) -> None:
    answer = said(world, dm("remind me about INV-2 next week"))
    assert "How reminders work" in text_of(answer)
    [later] = buttons(answer, "reminder_snooze")
    assert json.loads(later["value"]) == {"account": "acme", "invoice": "INV-2"}
    response, url = world.bot.press("reminder_snooze", later["value"], channel_id=f"D{ANN}")
    assert response.status_code == 200
    [post] = world.bot.wait_calls("response_url", where=lambda c: c.response_token == url.rsplit("/", 1)[-1])
    assert "remind you again after" in text_of(post)
