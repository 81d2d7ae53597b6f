"""English possessives of account names in what the bot says."""

from __future__ import annotations

import json

import pytest

from billing_core.money import Money
from billing_core.views import AccountView
from handlers.kit.blocks import possessive
from handlers.payments.blocks import partial_payment_screen


@pytest.mark.parametrize(
    ("name", "owned"),
    [
        ("Acme Corp", "Acme Corp's"),
        ("Acme Labs", "Acme Labs'"),
        ("ACME LABS", "ACME LABS'"),
        ("Globex", "Globex's"),
        ("Initech Inc.", "Initech Inc.'s"),
        ("Acme Labs ", "Acme Labs'"),
    ],
)
def test_a_name_ending_in_s_takes_a_bare_apostrophe_and_any_other_takes_apostrophe_s(name: str, owned: str) -> None:
    assert possessive(name) == owned


def test_the_partial_payment_answer_says_acme_labs_not_acme_labss() -> None:
    account = AccountView("labs", "Acme Labs", "usd", Money(31500, "usd"), 1, None)
    text = json.dumps(partial_payment_screen(account, "100", []).blocks)
    assert "Acme Labs' open invoices" in text and "Labs's" not in text
