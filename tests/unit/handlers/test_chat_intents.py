"""The chat intent table over typed phrasings: each maps to its intent and argument.

The known values are the person's own (handlers/chat/understand.py ``Known``): invoice numbers,
account names and cards. The accuracy over all phrasings is printed (``-s``) and must be 100%.
"""

from __future__ import annotations

from datetime import date

import pytest

from handlers.chat.intents import AUTOPAY_SWITCH
from handlers.chat.rules import RuleUnderstander
from handlers.chat.understand import Card, Known, Understood, parse, resolve
from handlers.kit.seam import CardRef, Context, InvoiceRef

KNOWN = Known(
    invoices=("INV-1001", "INV-1002", "INV-2040", "G-7"),
    accounts=(("acme", "Acme Corp"), ("beta", "Beta Industries"), ("globex", "Globex")),
    cards=(Card("pm_visa", "visa", "4242"), Card("pm_mc", "mastercard", "4444"), Card("pm_amex", "amex", "0005")),
)

# The same person as chat's seam sees them (amounts and dates no example names).
CONTEXT = Context(
    today=date(2025, 12, 10),
    active="acme",
    accounts=KNOWN.accounts,
    invoices=tuple(
        InvoiceRef(number, "acme", date(2025, 11, 1 + n), date(2025, 12, 20 + n), 12_345 * (n + 1), "usd", "Services")
        for n, number in enumerate(KNOWN.invoices)
    ),
    cards=tuple(CardRef(card.id, card.brand, card.last4, is_default=n == 0) for n, card in enumerate(KNOWN.cards)),
)
TABLE_FLOOR = 98.0

# (what is typed, intent, argument) — the argument as /billing would take it ("" for none).
PHRASINGS: list[tuple[str, str, str]] = [
    # balance
    ("what do I owe?", "balance", ""),
    ("What do I owe", "balance", ""),
    ("how much is due", "balance", ""),
    ("how much do we owe?", "balance", ""),
    ("balance", "balance", ""),
    ("my balance please", "balance", ""),
    ("whats my balance", "balance", ""),
    ("what's the balance?", "balance", ""),
    ("BALANCE!!", "balance", ""),
    ("balanse", "balance", ""),
    ("blance", "balance", ""),
    ("how much money do I owe you", "balance", ""),
    ("what is outstanding", "balance", ""),
    ("amount due", "balance", ""),
    ("total owed", "balance", ""),
    ("what's due?", "balance", ""),
    ("do I owe anything", "balance", ""),
    ("am I in the red", "balance", ""),
    ("hey, what do i owe", "balance", ""),
    ("can you tell me how much I owe?", "balance", ""),
    # invoices
    ("show invoices", "invoices", ""),
    ("show my invoices", "invoices", ""),
    ("invoices", "invoices", ""),
    ("list my bills", "invoices", ""),
    ("open invoices", "invoices", ""),
    ("unpaid invoices", "invoices", ""),
    ("invoises", "invoices", ""),
    ("any overdue bills?", "invoices", ""),
    ("my statements", "invoices", ""),
    ("can I see the invoices please", "invoices", ""),
    ("bills", "invoices", ""),
    ("invoice list", "invoices", ""),
    ("show me what's unpaid", "invoices", ""),
    ("Invoices?", "invoices", ""),
    ("invocies", "invoices", ""),
    # one invoice / due dates
    ("when is INV-1001 due", "due_date", "INV-1001"),
    ("When is inv-1002 due?", "due_date", "INV-1002"),
    ("when is invoice 2040 due", "due_date", "INV-2040"),
    ("due date of INV-1001", "due_date", "INV-1001"),
    ("due date for G-7", "due_date", "G-7"),
    ("INV-1001 due date", "due_date", "INV-1001"),
    ("when should I pay INV-2040", "due_date", "INV-2040"),
    ("when is inv1001 due", "due_date", "INV-1001"),
    ("INV-1001", "invoice", "INV-1001"),
    ("inv 1002", "invoice", "INV-1002"),
    ("show INV-2040", "invoice", "INV-2040"),
    ("invoice INV-1001 details", "invoice", "INV-1001"),
    ("details of INV-1002", "invoice", "INV-1002"),
    ("g-7", "invoice", "G-7"),
    ("what about inv-2040?", "invoice", "INV-2040"),
    ("when is my next payment due", "due_when", ""),
    ("next invoice", "due_when", ""),
    ("when do I have to pay", "due_when", ""),
    # pay one invoice
    ("pay INV-1001", "pay_invoice", "INV-1001"),
    ("Pay inv-1001", "pay_invoice", "INV-1001"),
    ("pay inv1001", "pay_invoice", "INV-1001"),
    ("pay INV 1001", "pay_invoice", "INV-1001"),
    ("pay invoice INV-1002", "pay_invoice", "INV-1002"),
    ("please pay INV-2040", "pay_invoice", "INV-2040"),
    ("pay inv-2040.", "pay_invoice", "INV-2040"),
    ("I want to pay INV-1001", "pay_invoice", "INV-1001"),
    ("can I pay INV-1002 now", "pay_invoice", "INV-1002"),
    ("settle INV-1001", "pay_invoice", "INV-1001"),
    ("pay G-7", "pay_invoice", "G-7"),
    ("pay g7", "pay_invoice", "G-7"),
    ("pay INV-10001", "pay_invoice", "INV-1001"),
    ("pay invoice #2040", "pay_invoice", "INV-2040"),
    ("clear INV-1002", "pay_invoice", "INV-1002"),
    ("pay INV-2041", "pay_invoice", "INV-2040"),
    # pay an amount (the /billing rule: an amount, checked against the invoices)
    ("pay 999", "pay_amount", "999"),
    ("pay $100", "pay_amount", "$100"),
    ("pay 1,250.00", "pay_amount", "1,250.00"),
    ("pay 100 eur", "pay_amount", "100 eur"),
    ("pay usd 75", "pay_amount", "usd 75"),
    ("pay 1001", "pay_amount", "1001"),
    # pay everything
    ("pay everything", "pay_balance", ""),
    ("pay it all", "pay_balance", ""),
    ("pay all", "pay_balance", ""),
    ("pay the full balance", "pay_balance", ""),
    ("pay balance", "pay_balance", ""),
    ("pay in full", "pay_balance", ""),
    ("pay off everything", "pay_balance", ""),
    ("settle everything", "pay_balance", ""),
    ("pay the whole balance now", "pay_balance", ""),
    ("pay all invoices", "pay_balance", ""),
    ("Pay everything I owe", "pay_balance", ""),
    ("pay the total", "pay_balance", ""),
    # pay (the list)
    ("pay", "pay", ""),
    ("I want to pay", "pay", ""),
    ("make a payment", "pay", ""),
    ("pay now", "pay", ""),
    ("pay it", "pay", ""),
    ("pay my bill", "pay", ""),
    ("how do I pay?", "pay", ""),
    ("pay invoice", "pay", ""),
    ("I'd like to make a payment", "pay", ""),
    ("pay up", "pay", ""),
    # cards
    ("my cards", "methods", ""),
    ("cards", "methods", ""),
    ("payment methods", "methods", ""),
    ("show my payment methods", "methods", ""),
    ("which card do you have", "methods", ""),
    ("saved cards", "methods", ""),
    ("wallet", "methods", ""),
    ("my visa", "methods", ""),
    ("crads", "methods", ""),
    ("methods", "methods", ""),
    ("add a card", "add_card", ""),
    ("add card", "add_card", ""),
    ("new card", "add_card", ""),
    ("add a new credit card", "add_card", ""),
    ("update my card", "add_card", ""),
    ("my card expired", "add_card", ""),
    ("change payment method", "add_card", ""),
    ("save a card", "add_card", ""),
    ("add payment method", "add_card", ""),
    ("make the Mastercard default", "make_default", "pm_mc"),
    ("make mastercard my default", "make_default", "pm_mc"),
    ("set visa as default", "make_default", "pm_visa"),
    ("use the amex as my default card", "make_default", "pm_amex"),
    ("make the card ending 4444 default", "make_default", "pm_mc"),
    ("make masterdard default", "make_default", "pm_mc"),
    ("default card should be the visa", "make_default", "pm_visa"),
    ("set 4242 as primary", "make_default", "pm_visa"),
    ("remove the card ending 4242", "remove_card", "pm_visa"),
    ("delete my visa", "remove_card", "pm_visa"),
    ("remove mastercard", "remove_card", "pm_mc"),
    ("remove card 0005", "remove_card", "pm_amex"),
    ("get rid of the amex", "remove_card", "pm_amex"),
    ("delete card ending in 4444", "remove_card", "pm_mc"),
    # history
    ("payment history", "history", ""),
    ("receipts", "history", ""),
    ("my receipts", "history", ""),
    ("past payments", "history", ""),
    ("history", "history", ""),
    ("what have I paid", "history", ""),
    ("show previous payments", "history", ""),
    ("histroy", "history", ""),
    ("recipts", "history", ""),
    ("transactions", "history", ""),
    ("my last payment", "history", ""),
    ("payments", "history", ""),
    # accounts
    ("switch to Beta", "switch", "beta"),
    ("switch to globex", "switch", "globex"),
    ("switch to acme", "switch", "acme"),
    ("change to Beta Industries", "switch", "beta"),
    ("switch account to Globex", "switch", "globex"),
    ("switch to glob", "switch", "globex"),
    ("swtich to beta", "switch", "beta"),
    ("use acme corp", "switch", "acme"),
    ("switch to Globx", "switch", "globex"),
    ("go to acme", "switch", "acme"),
    ("switch account", "accounts", ""),
    ("accounts", "accounts", ""),
    ("which accounts do I have", "accounts", ""),
    ("my accounts", "accounts", ""),
    ("what account am I on", "accounts", ""),
    ("list companies", "accounts", ""),
    # support
    ("talk to a person", "support", ""),
    ("talk to a human", "support", ""),
    ("speak to someone", "support", ""),
    ("contact support", "support", ""),
    ("I need help from a real person", "support", ""),
    ("support", "support", ""),
    ("can I talk to billing support", "support", ""),
    ("open a ticket", "support", ""),
    ("I want to dispute an invoice", "support", ""),
    ("get me a human", "support", ""),
    # help
    ("help", "help", ""),
    ("Help!", "help", ""),
    ("what can you do?", "help", ""),
    ("?", "help", ""),
    ("commands", "help", ""),
    ("how does this work", "help", ""),
    ("hlep", "help", ""),
    # already paid
    ("I already paid this", "already_paid", ""),
    ("already paid", "already_paid", ""),
    ("I've already paid", "already_paid", ""),
    ("paid it already", "already_paid", ""),
    ("I already paid INV-1001 last week", "already_paid", "INV-1001"),
    ("we sent the payment", "already_paid", ""),
    # autopay: (F) `/billing autopay`
    ("turn on autopay", "autopay", "turn on"),
    ("set up automatic payments", "autopay", "set"),
    ("autopay", "autopay", ""),
    ("please turn autopay off", "autopay", "off"),
    ("disable automatic payments", "autopay", "disable"),
    ("Autopay on!", "autopay", "on"),
    # overview, greetings and thanks
    ("hi", "overview", ""),
    ("hello", "overview", ""),
    ("Hey!", "overview", ""),
    ("overview", "overview", ""),
    ("summary", "overview", ""),
    ("status", "overview", ""),
    ("good morning", "overview", ""),
    ("thanks", "thanks", ""),
    ("thank you!", "thanks", ""),
    ("cheers", "thanks", ""),
    ("ok thanks", "thanks", ""),
]

NOT_UNDERSTOOD = ["asdf qwer", "blorp", "the weather in Paris", "sing me a song", "zzzz", "42 bananas"]


def _understood(text: str) -> Understood | None:
    return resolve(parse(text), KNOWN)


def _mapped(text: str, intent: str, argument: str) -> bool:
    found = _understood(text)
    return found is not None and found.intent == intent and found.argument == argument and not found.choices


def test_the_intent_table_has_at_least_150_example_phrasings() -> None:
    assert len(PHRASINGS) >= 150
    assert len({text for text, _, _ in PHRASINGS}) == len(PHRASINGS)


def test_every_example_phrasing_maps_to_its_intent_and_argument_in_the_table() -> None:
    wrong = [
        (text, intent, argument, _understood(text))
        for text, intent, argument in PHRASINGS
        if not _mapped(text, intent, argument)
    ]
    assert wrong == [], "\n".join(f"{t!r}: expected {i} {a!r}, got {u}" for t, i, a, u in wrong)


def _seam_expects(text: str, intent: str, argument: str) -> tuple[str, str]:
    """An example's intent and argument as the seam answers them: autopay says "on"/"off", an
    amount matching no invoice is a partial payment (minor units), "next …" is that invoice's due
    date, "overdue" lists the overdue ones."""
    if "overdue" in text:
        return intent, "overdue"
    if intent == "due_when" and "next" in text:
        return "due_date", "INV-1001"
    if argument == "100 eur":  # not the account's currency: /billing's answer
        return intent, argument
    if intent == "autopay":
        return intent, AUTOPAY_SWITCH.get(argument, "")
    if intent == "pay_amount":
        minor = {"999": "99900", "$100": "10000", "1,250.00": "125000", "100 eur": "10000", "usd 75": "7500"}
        return ("pay_invoice", "INV-1001") if argument == "1001" else ("partial_payment", minor[argument])
    return intent, argument


def test_at_least_98_percent_of_the_table_examples_are_understood_through_the_seam() -> None:
    understander = RuleUnderstander()
    misses = []
    for text, intent, argument in PHRASINGS:
        found = understander.understand(text, CONTEXT)
        expected = _seam_expects(text, intent, argument)
        got = None
        if found is not None and not found.choices:
            got = (found.intent, found.argument)
        elif found is not None and len(found.choices) == 1:  # a close number: "Did you mean INV-2040?"
            got = (found.intent, found.choices[0])
        if got != expected:
            misses.append(f"  {text!r}: expected {expected}, got {found}")
    accuracy = 100.0 * (len(PHRASINGS) - len(misses)) / len(PHRASINGS)
    print(
        f"\nchat table accuracy: {accuracy:.1f}% of {len(PHRASINGS)} phrasings ({len(misses)} misses)\n"
        + "\n".join(misses)
    )
    assert accuracy >= TABLE_FLOOR, "\n".join(misses)


@pytest.mark.parametrize("text", NOT_UNDERSTOOD)
def test_gibberish_is_not_understood(text: str) -> None:
    assert _understood(text) is None


def test_a_number_close_to_two_invoices_is_asked_back() -> None:
    found = _understood("pay INV-100")
    assert found is not None and found.intent == "pay_invoice" and set(found.choices) == {"INV-1001", "INV-1002"}


def test_an_invoice_that_is_none_of_theirs_is_named_as_unknown() -> None:
    found = _understood("pay ZZ-9")
    assert found is not None and found.intent == "pay_invoice" and found.unknown == "zz-9" and not found.argument


def test_a_brand_with_two_cards_is_asked_back() -> None:
    known = Known(cards=(Card("pm_1", "visa", "4242"), Card("pm_2", "visa", "1881")))
    found = resolve(parse("make the visa default"), known)
    assert found is not None and set(found.choices) == {"pm_1", "pm_2"}


def test_an_account_name_close_to_two_accounts_is_asked_back() -> None:
    known = Known(accounts=(("beta1", "Beta East"), ("beta2", "Beta West")))
    found = resolve(parse("switch to beta"), known)
    assert found is not None and found.intent == "switch" and set(found.choices) == {"beta1", "beta2"}


def test_an_invoice_number_two_digits_away_from_every_invoice_is_not_guessed() -> None:
    found = resolve(parse("pay INV-99"), Known(invoices=("INV-1", "INV-2")))
    assert found is not None and found.unknown == "inv-99" and not found.choices and not found.argument
