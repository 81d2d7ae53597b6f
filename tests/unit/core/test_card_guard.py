from __future__ import annotations

import pytest

from billing_core.card_guard import REDACTED, contains_card_number, redact_card_numbers


def test_a_plain_test_card_number_is_recognised() -> None:
    assert contains_card_number("my card is 4242424242424242 thanks")


def test_card_numbers_split_by_spaces_or_dashes_are_recognised() -> None:
    assert contains_card_number("4242 4242 4242 4242")
    assert contains_card_number("5555-5555-5555-4444")


def test_numbers_that_fail_the_luhn_check_are_left_alone() -> None:
    # Every 13 to 19 digit stretch is checked (issue 25): none of this one's ten passes.
    assert not contains_card_number("order 1234567812345678")


def test_short_numbers_like_invoice_amounts_are_left_alone() -> None:
    assert not contains_card_number("INV-1001 for 125000 cents, call 555 0100")


def test_redaction_replaces_only_the_card_number() -> None:
    assert redact_card_numbers("pay INV-7 with 4000 0566 5566 5556 please") == f"pay INV-7 with {REDACTED} please"


_ANY_SEPARATOR = {
    "hyphen": "-",
    "en dash": "\u2013",
    "em dash": "\u2014",
    "minus sign": "\u2212",
    "figure dash": "\u2012",
    "horizontal bar": "\u2015",
    "non-breaking hyphen": "\u2011",
    "small hyphen-minus": "\ufe63",
    "fullwidth hyphen-minus": "\uff0d",
    "two-em dash": "\u2e3a",
    "three-em dash": "\u2e3b",
    "wave dash": "\u301c",
    "small em dash": "\ufe58",
    "armenian hyphen": "\u058a",
    "hebrew maqaf": "\u05be",
    "double hyphen": "\u2e40",
    "hyphen bullet": "\u2043",
    "katakana middle dot": "\u30fb",
    "fullwidth full stop": "\uff0e",
    "fullwidth solidus": "\uff0f",
    "fraction slash": "\u2044",
    "division slash": "\u2215",
    "backslash": "\\",
    "single space": " ",
    "double space": "  ",
    "no-break space": "\u00a0",
    "narrow no-break space": "\u202f",
    "ideographic space": "\u3000",
    "em space": "\u2003",
    "tab": "\t",
    "newline": "\n",
    "blank line": "\n\n",
    "CR LF": "\r\n",
    "line separator": "\u2028",
    "dot": ".",
    "slash": "/",
    "spaced en dash": " \u2013 ",
    "word joiner": "\u2060",
    "soft hyphen": "\u00ad",
    "zero-width space": "\u200b",
    "bullet": "\u2022",
}


@pytest.mark.parametrize("separator", _ANY_SEPARATOR.values(), ids=_ANY_SEPARATOR.keys())
def test_a_card_number_with_any_separator_between_its_groups_is_recognised_and_redacted(separator: str) -> None:
    typed = separator.join(("4242", "4242", "4242", "4242"))
    assert contains_card_number(f"my card is {typed} thanks")
    assert redact_card_numbers(f"my card is {typed} thanks") == f"my card is {REDACTED} thanks"


def test_a_card_number_with_mixed_separators_is_recognised() -> None:
    assert contains_card_number("4000\u00a00566 \u2014 5566.5556")
    assert contains_card_number("3782\u2212822463\u221210005")


def test_a_card_number_typed_in_fullwidth_digits_is_recognised() -> None:
    assert contains_card_number("\uff14\uff12\uff14\uff12 " * 3 + "\uff14\uff12\uff14\uff12")


def test_dashed_dates_phone_numbers_and_amounts_are_left_alone() -> None:
    assert not contains_card_number("due 2026\u201312\u201308, call +1 555\u2014010\u20130199, $1,250.00")
    assert not contains_card_number("invoices INV-1001 \u2013 INV-1002 \u2013 INV-1003 \u2013 INV-1004")


def test_a_card_number_with_long_runs_of_separators_between_its_groups_is_recognised() -> None:
    assert contains_card_number("4242  --  4242  --  4242  --  4242")
    assert contains_card_number("4242 \u00a0\u2014\u00a0 4242\n\n\n\n\n4242 / / 4242")
