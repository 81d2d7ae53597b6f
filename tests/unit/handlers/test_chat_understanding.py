"""The rule-based understander behind chat's seam: references resolved against the person's own
values only, short answers to the bot's last question, and the question's stored form."""

from __future__ import annotations

from dataclasses import replace

from handlers.chat.rules import RuleUnderstander
from handlers.kit.seam import Pending, Understanding
from tests.unit.handlers.chat_measure import ANN

UNDERSTAND = RuleUnderstander()


def _understood(text: str, pending: Pending | None = None) -> Understanding:
    found = UNDERSTAND.understand(text, replace(ANN, pending=pending))
    assert found is not None, text
    return found


def test_another_customers_invoice_number_names_none_of_theirs() -> None:
    for text in ("pay INV-7777", "when is INV-5555 due", "send me a copy of INV-4242"):
        found = _understood(text)
        assert not found.invoice and not found.choices and found.unknown, text


def test_a_number_one_slip_from_one_of_theirs_is_asked_back_not_assumed() -> None:
    found = _understood("pay INV-2002")
    assert found.intent == "pay_invoice" and not found.invoice and found.choices == ("INV-2001",)


def test_another_customers_account_is_named_as_unknown_never_answered_with_theirs() -> None:
    for text in ("what does globex owe", "balance for initech please", "switch to globex"):
        found = _understood(text)
        assert not found.account and found.unknown, text


def test_another_customers_card_names_none_of_theirs() -> None:
    for text in ("remove the card ending 5454", "make the mastercard default"):
        found = _understood(text)
        assert not found.card and not found.choices, text


def test_an_account_of_theirs_named_anywhere_is_answered_for_it() -> None:
    assert _understood("what does acme labs owe").account == "acme-labs"
    assert _understood("pay the labs invoice").invoice == "INV-2001"


def test_the_other_card_is_the_one_that_is_not_the_default() -> None:
    assert _understood("make the other card the default").card == "pm_amex"


def test_a_yes_to_a_question_answers_it_with_the_value_asked_about_and_moves_nothing() -> None:
    asked = Pending("pay_invoice", "confirm", ("INV-1001",))
    assert _understood("yes please", asked) == Understanding("pay_invoice", "pay_invoice", invoice="INV-1001")
    assert _understood("no thanks", asked).intent == "cancel"


def test_the_first_a_number_and_both_answer_which_one() -> None:
    asked = Pending("pay_invoice", "choices", ("INV-1001", "INV-0998"))
    assert _understood("the first", asked).invoice == "INV-1001"
    assert _understood("2", asked).invoice == "INV-0998"
    assert _understood("both", asked).choices == ("INV-1001", "INV-0998")


def test_a_new_request_after_a_question_is_a_new_request() -> None:
    asked = Pending("pay_invoice", "choices", ("INV-1001", "INV-0998"))
    found = _understood("pay 200 dollars toward INV-1001", asked)
    assert found.intent == "partial_payment" and found.amount == "20000"
    assert _understood("what do we owe", asked).intent == "balance"


def test_a_question_is_stored_whole_within_the_columns_length() -> None:
    pending = Pending("pay_invoice", "choices", tuple(f"INVOICE-{n:040d}" for n in range(10)))
    encoded = pending.encode()
    assert len(encoded) <= 255
    decoded = Pending.decode(encoded)
    assert decoded is not None and decoded.values == pending.values[: len(decoded.values)]
    assert Pending.decode("garbage") is None and Pending.decode("pay|nonsense|x") is None
