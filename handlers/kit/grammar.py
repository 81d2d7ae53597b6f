"""The ``/billing`` grammar (README, "Using it in Slack"): text in, one Command out. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from billing_core.money import Money, is_known_currency, minor_digits
from billing_core.views import InvoiceView

# "100", "$100", "100.50", "1,000", "usd 100", "100 eur": what a partial amount looks like.
_AMOUNT = re.compile(
    r"^(?:(?P<before>[a-z]{3})\s*)?[$€£¥]?\s*(?P<number>\d[\d,]*(?:[.,]\d+)?)\s*(?P<after>[a-z]{3})?$",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_DECIMAL_COMMA = re.compile(r"^\d+,\d+$")

# What ``full_payment_named`` answers for an amount equal to the whole open balance.
BALANCE = "balance"

_SIMPLE = {"help", "balance", "invoices", "methods", "history", "accounts"}


@dataclass(frozen=True, slots=True)
class Command:
    """``name`` is one of: overview, help, pay, pay_balance, pay_invoice, balance, invoices, methods,
    history, accounts, switch, support, autopay (argument "", "on" or "off")."""

    name: str
    argument: str = ""
    # False for text outside the grammar (``name`` is then "help"): say so before the help.
    understood: bool = True


def looks_like_amount(text: str) -> bool:
    match = _AMOUNT.match(text.strip())
    if match is None:
        return False
    codes = [c.lower() for c in (match.group("before"), match.group("after")) if c]
    return all(is_known_currency(code) for code in codes)


def amount_minor(text: str, currency: str) -> int | None:
    """``text`` as an amount in ``currency``'s minor units ("$1,250.00" in usd is 125000), or
    ``None`` when it is no amount, names another currency or has more decimals than the currency."""
    match = _AMOUNT.match(text.strip())
    if match is None:
        return None
    codes = {c.lower() for c in (match.group("before"), match.group("after")) if c}
    if codes - {currency.lower()}:
        return None
    value = _decimal(match.group("number"))
    if value is None:
        return None
    minor = value.scaleb(minor_digits(currency.lower()))
    return int(minor) if minor == minor.to_integral_value() else None


def _decimal(number: str) -> Decimal | None:
    """ "1,250.00", "1,250", "12,50", "315": commas group thousands, or one is a decimal comma."""
    whole, dot, fraction = number.partition(".")
    if "," in whole:
        if _THOUSANDS.match(whole):
            whole = whole.replace(",", "")
        elif not dot and _DECIMAL_COMMA.match(whole):
            whole, _, fraction = whole.partition(",")
            dot = "."
        else:
            return None
    try:
        return Decimal(whole + dot + fraction)
    except InvalidOperation:
        return None


def full_payment_named(text: str, balance: Money, open_invoices: Sequence[InvoiceView]) -> str | None:
    """The full payment an amount names: ``BALANCE`` when it equals the whole open balance, else the
    number of the (oldest due) open invoice whose outstanding amount it equals; ``None`` otherwise
    (a partial amount, or no amount at all)."""
    minor = amount_minor(text, balance.currency)
    if minor is None or minor <= 0:
        return None
    if minor == balance.amount_minor:
        return BALANCE
    return next((i.number for i in open_invoices if i.outstanding.amount_minor == minor), None)


def invoice_named(typed: str, numbers: Iterable[str]) -> str | None:
    """The invoice number ``typed`` names without regard to case (an exact match first), or ``None``."""
    candidates = list(numbers)
    if typed in candidates:
        return typed
    folded = typed.strip().casefold()
    return next((number for number in candidates if number.casefold() == folded), None)


def parse(text: str) -> Command:
    """Empty text is the overview; anything not in the grammar is help, marked not understood."""
    words = text.strip().split(None, 1)
    if not words:
        return Command("overview")
    verb = words[0].lower()
    rest = words[1].strip() if len(words) > 1 else ""
    if verb in _SIMPLE:
        return Command(verb) if not rest else Command("help", understood=False)
    if verb == "pay":
        if not rest:
            return Command("pay")
        if rest.lower() == "balance":
            return Command("pay_balance")
        # An invoice number, or (checked against the caller's invoices later) a partial amount.
        return Command("pay_invoice", rest)
    if verb == "switch":
        return Command("switch", rest)
    if verb == "support":
        return Command("support", rest)
    if verb == "autopay" and rest.lower() in ("", "on", "off"):
        return Command("autopay", rest.lower())
    return Command("help", understood=False)
