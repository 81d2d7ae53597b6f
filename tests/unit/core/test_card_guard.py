from __future__ import annotations

from billing_core.card_guard import REDACTED, contains_card_number, redact_card_numbers


def test_a_plain_test_card_number_is_recognised() -> None:
    assert contains_card_number("my card is 4242424242424242 thanks")


def test_card_numbers_split_by_spaces_or_dashes_are_recognised() -> None:
    assert contains_card_number("4242 4242 4242 4242")
    assert contains_card_number("5555-5555-5555-4444")


def test_numbers_that_fail_the_luhn_check_are_left_alone() -> None:
    assert not contains_card_number("order 4242424242424241")


def test_short_numbers_like_invoice_amounts_are_left_alone() -> None:
    assert not contains_card_number("INV-1001 for 125000 cents, call 555 0100")


def test_redaction_replaces_only_the_card_number() -> None:
    assert redact_card_numbers("pay INV-7 with 4000 0566 5566 5556 please") == f"pay INV-7 with {REDACTED} please"
