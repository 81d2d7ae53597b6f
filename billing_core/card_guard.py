"""Card-number guard: text that looks like a card number never gets stored, e-mailed or logged.

"Looks like" means 13 to 19 digits that pass the Luhn check, possibly split into groups by up to
eight separator characters each: any white space (tabs, newlines, no-break and other Unicode
spaces, doubled spaces), dashes and minus signs of every kind (Unicode's dash punctuation), dots,
slashes, underscores, middle dots, bullets and invisible zero-width characters, in their fullwidth
forms too; digits of any script count (fullwidth digits are digits).
"""

from __future__ import annotations

import re

# Every Unicode dash (category Pd) and minus sign, dot, slash, underscore and invisible character.
_DASHES = (
    r"\-\u00ad\u02d7\u058a\u05be\u1400\u1806\u2010-\u2015\u2043\u2053\u207b\u208b\u2212\u2796"
    r"\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
)
_DOTS = r".\u00b7\u0387\u2022\u2024\u2027\u2219\u22c5\u30fb\uff0e\uff65"
_SLASHES = r"/\\\u2044\u2215\u29f8\uff0f\uff3c_\uff3f"
_INVISIBLE = r"\u034f\u180e\u200b-\u200f\u2060-\u2064\ufeff"
_SEPARATOR = rf"[\s{_DASHES}{_DOTS}{_SLASHES}{_INVISIBLE}]"
# Digits with separator runs (up to 8 characters) between them, not glued to other digits.
_CANDIDATE = re.compile(rf"(?<!\d)(?:\d{_SEPARATOR}{{0,8}}){{12,18}}\d(?!\d)")
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


def had_card_number(text: str) -> bool:
    """True when ``text`` holds a card number or the marker left where one was removed (message
    events are redacted before their listener sees them, and the person must still be warned)."""
    return REDACTED in text or contains_card_number(text)
