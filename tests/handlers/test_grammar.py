"""The /billing grammar of CONTRACT.md."""

from __future__ import annotations

import pytest

from handlers.grammar import Command, looks_like_amount, parse


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
    assert parse(text) == Command("help")


@pytest.mark.parametrize("text", ["100", "$100", "100.50", "1,000", "usd 100", "100 EUR", "€ 12,50"])
def test_amounts_look_like_amounts(text: str) -> None:
    assert looks_like_amount(text)


@pytest.mark.parametrize("text", ["INV-42", "balance", "2026-11-01", "INV 42"])
def test_invoice_numbers_do_not_look_like_amounts(text: str) -> None:
    assert not looks_like_amount(text)
