"""The ``/billing`` grammar (CONTRACT.md): text in, one Command out. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from billing_core.money import is_known_currency

# "100", "$100", "100.50", "1,000", "usd 100", "100 eur": what a partial amount looks like.
_AMOUNT = re.compile(
    r"^(?:(?P<before>[a-z]{3})\s*)?[$€£¥]?\s*\d[\d,]*(?:[.,]\d+)?\s*(?P<after>[a-z]{3})?$", re.IGNORECASE
)

_SIMPLE = {"help", "balance", "invoices", "methods", "history", "accounts"}


@dataclass(frozen=True, slots=True)
class Command:
    """``name`` is one of: overview, help, pay, pay_balance, pay_invoice, balance, invoices, methods,
    history, accounts, switch, support, autopay (argument "", "on" or "off")."""

    name: str
    argument: str = ""


def looks_like_amount(text: str) -> bool:
    match = _AMOUNT.match(text.strip())
    if match is None:
        return False
    codes = [c.lower() for c in (match.group("before"), match.group("after")) if c]
    return all(is_known_currency(code) for code in codes)


def parse(text: str) -> Command:
    """Empty text is the overview; anything not in the grammar is help."""
    words = text.strip().split(None, 1)
    if not words:
        return Command("overview")
    verb = words[0].lower()
    rest = words[1].strip() if len(words) > 1 else ""
    if verb in _SIMPLE:
        return Command(verb) if not rest else Command("help")
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
    if verb == "autopay":
        return Command("autopay", rest.lower()) if rest.lower() in ("", "on", "off") else Command("help")
    return Command("help")
