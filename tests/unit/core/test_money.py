from __future__ import annotations

import pytest

from billing_core.errors import CurrencyMismatch
from billing_core.money import Money, minor_digits, total


class TestFormatting:
    def test_usd_shows_dollars_and_cents_with_thousands_separators(self) -> None:
        assert Money(125000, "usd").format() == "$1,250.00"

    def test_eur_shows_the_euro_sign_and_two_minor_digits(self) -> None:
        assert Money(99, "eur").format() == "€0.99"
        assert Money(123456789, "eur").format() == "€1,234,567.89"

    def test_jpy_has_no_minor_digits(self) -> None:
        assert Money(125000, "jpy").format() == "¥125,000"

    def test_three_decimal_currencies_show_three_digits(self) -> None:
        assert minor_digits("kwd") == 3
        assert Money(1500, "kwd").format() == "KWD 1.500"

    def test_a_currency_without_a_symbol_shows_its_code(self) -> None:
        assert Money(100000, "sek").format() == "SEK 1,000.00"

    def test_negative_amounts_keep_their_sign_in_front(self) -> None:
        assert Money(-250, "usd").format() == "-$2.50"


class TestArithmetic:
    def test_adding_the_same_currency_adds_minor_units(self) -> None:
        assert Money(150, "usd") + Money(250, "usd") == Money(400, "usd")

    def test_mixing_currencies_is_refused(self) -> None:
        with pytest.raises(CurrencyMismatch):
            Money(1, "usd") + Money(1, "eur")

    def test_total_of_nothing_is_zero_in_that_currency(self) -> None:
        assert total([], "eur") == Money(0, "eur")

    def test_floats_are_refused_as_amounts(self) -> None:
        with pytest.raises(TypeError):
            Money(12.5, "usd")  # type: ignore[arg-type]

    def test_uppercase_currency_codes_are_refused(self) -> None:
        with pytest.raises(ValueError):
            Money(1, "USD")
