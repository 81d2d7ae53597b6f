"""The /billing grammar, as the README lists its commands."""

from __future__ import annotations

from datetime import date

import pytest

from billing_core.money import Money
from billing_core.views import InvoiceView
from handlers.kit.grammar import (
    BALANCE,
    Command,
    amount_minor,
    full_payment_named,
    invoice_named,
    looks_like_amount,
    parse,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("overview")),
        ("   ", Command("overview")),
        ("help", Command("help")),
        ("HELP", Command("help")),
        ("pay", Command("pay")),
        ("pay balance", Command("pay_balance")),
        ("pay Balance", Command("pay_balance")),
        ("pay INV-42", Command("pay_invoice", "INV-42")),
        ("pay 100", Command("pay_invoice", "100")),
        ("balance", Command("balance")),
        ("invoices", Command("invoices")),
        ("methods", Command("methods")),
        ("history", Command("history")),
        ("accounts", Command("accounts")),
        ("switch Acme Corp", Command("switch", "Acme Corp")),
        ("switch", Command("switch", "")),
        ("support", Command("support", "")),
        ("support my card was charged twice", Command("support", "my card was charged twice")),
    ],
)
def test_each_form_of_the_grammar_is_understood(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["refund", "balance please", "history 2", "paybalance", "?", "invoices all"])
def test_anything_else_is_help(text: str) -> None:
    assert parse(text).name == "help"


@pytest.mark.parametrize("text", ["100", "$100", "100.50", "1,000", "usd 100", "100 EUR", "€ 12,50"])
def test_amounts_look_like_amounts(text: str) -> None:
    assert looks_like_amount(text)


@pytest.mark.parametrize("text", ["INV-42", "balance", "2026-11-01", "INV 42"])
def test_invoice_numbers_do_not_look_like_amounts(text: str) -> None:
    assert not looks_like_amount(text)


@pytest.mark.parametrize("text", ["refund", "balance please", "gimme money", "?"])
def test_text_outside_the_grammar_is_marked_as_not_understood(text: str) -> None:
    assert not parse(text).understood


@pytest.mark.parametrize("text", ["", "help", "pay", "pay INV-DOESNOTEXIST", "pay 100", "switch x", "support hi"])
def test_text_in_the_grammar_is_understood(text: str) -> None:
    assert parse(text).understood


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("315", "usd", 31500),
        ("315.00", "usd", 31500),
        ("$315", "usd", 31500),
        ("$ 315.5", "usd", 31550),
        ("1,250.00", "usd", 125000),
        ("1,250", "usd", 125000),
        ("1,234,567.89", "usd", 123456789),
        ("usd 315", "usd", 31500),
        ("315 USD", "usd", 31500),
        ("€ 12,50", "eur", 1250),
        ("¥31500", "jpy", 31500),
        ("31,500", "jpy", 31500),
        ("31500.00", "jpy", 31500),
        ("1.250", "kwd", 1250),
        ("12.345", "kwd", 12345),
        ("99,999,999,999", "usd", 9999999999900),
    ],
)
def test_an_amount_is_read_in_the_currency_minor_units(text: str, currency: str, minor: int) -> None:
    assert amount_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("315.001", "usd"),  # more digits than cents
        ("315.5", "jpy"),  # yen have no fraction
        ("12.3456", "kwd"),
        ("eur 315", "usd"),  # another currency
        ("INV-315", "usd"),
        ("1,25,0", "usd"),
        ("", "usd"),
    ],
)
def test_text_that_is_no_amount_of_the_account_currency_reads_as_none(text: str, currency: str) -> None:
    assert amount_minor(text, currency) is None


def _invoice(number: str, minor: int, paid: int = 0, currency: str = "usd") -> InvoiceView:
    return InvoiceView(
        number,
        "acme",
        date(2026, 11, 1),
        date(2026, 12, 1),
        Money(minor, currency),
        Money(paid, currency),
        "open",
        "",
        False,
    )


_OPEN = [_invoice("INV-1", 125000), _invoice("INV-2", 50050, paid=50), _invoice("INV-3", 9900)]
_BALANCE = Money(125000 + 50000 + 9900, "usd")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("1849", BALANCE),
        ("$1,849.00", BALANCE),
        ("1250", "INV-1"),
        ("500", "INV-2"),  # its outstanding amount, not the amount first due
        ("$99", "INV-3"),
        ("500.50", None),
        ("100", None),
        ("0", None),
    ],
)
def test_an_amount_names_the_full_balance_or_the_one_open_invoice_it_equals(text: str, named: str | None) -> None:
    assert full_payment_named(text, _BALANCE, _OPEN) == named


def test_an_amount_in_yen_or_dinars_matches_by_the_currency_minor_units() -> None:
    yen = [_invoice("J-1", 31500, currency="jpy")]
    assert full_payment_named("¥31,500", Money(31500, "jpy"), yen) == BALANCE
    dinars = [_invoice("K-1", 1250, currency="kwd"), _invoice("K-2", 500, currency="kwd")]
    assert full_payment_named("1.250", Money(1750, "kwd"), dinars) == "K-1"
    assert full_payment_named("1.75", Money(1750, "kwd"), dinars) == BALANCE


@pytest.mark.parametrize(
    ("typed", "numbers", "named"),
    [
        ("inv-2001", ["INV-2000", "INV-2001"], "INV-2001"),
        ("INV-2001", ["INV-2001"], "INV-2001"),
        ("Inv-2001", ["inv-2001", "INV-2001"], "inv-2001"),  # no exact match: the first any-case match
        ("inv-2001", ["inv-2001", "INV-2001"], "inv-2001"),  # an exact match wins
        ("INV-DOESNOTEXIST", ["INV-2001"], None),
    ],
)
def test_an_invoice_number_is_matched_without_regard_to_case(typed: str, numbers: list[str], named: str | None) -> None:
    assert invoice_named(typed, numbers) == named
