"""Card-number guard: text that looks like a card number never gets stored, e-mailed or logged.

"Looks like" means 13 to 19 digits that pass the Luhn check, possibly split into groups by up to
four separator characters each: any white space (tabs, newlines, no-break and other Unicode
spaces, doubled spaces), dashes of every kind, dots, slashes, underscores, middle dots, bullets and
invisible zero-width characters.
"""

from __future__ import annotations

import re

_SEPARATOR = r"[\s\-./_\u00ad\u00b7\u2010-\u2015\u2022\u2212\u200b-\u200d\u2060\ufeff]"
# Digits with short separator runs between them, not glued to other digits.
_CANDIDATE = re.compile(rf"(?<!\d)(?:\d{_SEPARATOR}{{0,4}}){{12,18}}\d(?!\d)")
_NOT_A_DIGIT = re.compile(r"\D")
REDACTED = "[card number removed]"


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every card number satisfies."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_like(match: str) -> bool:
    digits = _NOT_A_DIGIT.sub("", match)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def contains_card_number(text: str) -> bool:
    """True when ``text`` holds something that looks like a card number."""
    return any(_card_like(m.group(0)) for m in _CANDIDATE.finditer(text))


def redact_card_numbers(text: str) -> str:
    """``text`` with every card-like number replaced by a marker."""
    return _CANDIDATE.sub(lambda m: REDACTED if _card_like(m.group(0)) else m.group(0), text)
