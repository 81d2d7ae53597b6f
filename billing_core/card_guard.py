"""Card-number guard: text that looks like a card number never gets stored, e-mailed or logged.

The text is cut into runs: digits joined by separators, up to eight separator characters between
two digits. Separators are any white space (tabs, newlines, no-break and other Unicode spaces,
doubled spaces), dashes and minus signs of every kind (Unicode's dash punctuation), dots, commas,
slashes, underscores, plus signs, middle dots, bullets and invisible zero-width characters, in
their fullwidth forms too, and the same characters percent-encoded as in a URL (``%20``, ``%2D``…);
digits of any script count (fullwidth digits are digits). A run holds a card number when **any**
13 to 19 consecutive digits of it pass the Luhn check, wherever they start and end, so a number
followed by its expiry and code (``4242 4242 4242 4242 12/34 123``) is found as surely as one
alone; the whole run (number, expiry and code) is what redaction removes. Letters, ``$``, ``:``,
``#``, ``@``, ``=``, ``&`` and the like end a run, which is why invoice numbers (``INV-1001``),
amounts, dates and phone numbers written as people write them are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Every Unicode dash (category Pd) and minus sign, dot, comma, slash, underscore, plus and invisible character.
_DASHES = (
    r"\-\u00ad\u02d7\u058a\u05be\u1400\u1806\u2010-\u2015\u2043\u2053\u207b\u208b\u2212\u2796"
    r"\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
)
_DOTS = r".\u00b7\u0387\u2022\u2024\u2027\u2219\u22c5\u30fb\uff0e\uff65,\u060c\u3001\uff0c\ufe50"
_SLASHES = r"/\\\u2044\u2215\u29f8\uff0f\uff3c_\uff3f+\uff0b"
_INVISIBLE = r"\u034f\u180e\u200b-\u200f\u2060-\u2064\ufeff"
# Percent-encoded separators as a URL carries them: tab, LF, CR, space, + , - . / \ _ and U+00A0.
_ENCODED = r"%(?:0[9aAdD]|2[0bBcCdDeEfF]|5[cCfF]|[cC]2%[aA]0)"
_SEPARATOR = rf"(?:[\s{_DASHES}{_DOTS}{_SLASHES}{_INVISIBLE}]|{_ENCODED})"
# A run: digits with separator runs (up to 8 characters) between them, as long as it goes.
_RUN = re.compile(rf"\d(?:{_SEPARATOR}{{0,8}}\d)*")
_ENCODED_SEPARATOR = re.compile(_ENCODED)
_NOT_A_DIGIT = re.compile(r"\D")
_SHORTEST, _LONGEST = 13, 19
_DOUBLED = tuple(value * 2 - 9 if value * 2 > 9 else value * 2 for value in range(10))
REDACTED = "[card number removed]"


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every card number satisfies."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        total += _DOUBLED[int(char)] if index % 2 == 1 else int(char)
    return total % 10 == 0


def _holds_card(run: str) -> bool:
    """True when any 13 to 19 consecutive digits of ``run`` pass the Luhn check.

    Prefix sums make each window one subtraction: ``odd_doubled[k]`` sums the first ``k`` digits
    with those at odd positions doubled, ``even_doubled[k]`` with those at even positions doubled.
    A window ending before position ``end`` doubles every second digit counting back from its
    last, i.e. the digits whose position has the parity of ``end``.
    """
    digits = [int(char) for char in _NOT_A_DIGIT.sub("", _ENCODED_SEPARATOR.sub("", run))]
    if len(digits) < _SHORTEST:
        return False
    odd_doubled, even_doubled = [0], [0]
    for position, value in enumerate(digits):
        odd_doubled.append(odd_doubled[-1] + (_DOUBLED[value] if position % 2 else value))
        even_doubled.append(even_doubled[-1] + (value if position % 2 else _DOUBLED[value]))
    for end in range(_SHORTEST, len(digits) + 1):
        sums = even_doubled if end % 2 == 0 else odd_doubled
        for start in range(max(0, end - _LONGEST), end - _SHORTEST + 1):
            if (sums[end] - sums[start]) % 10 == 0:
                return True
    return False


def _card_runs(text: str) -> Iterator[re.Match[str]]:
    return (match for match in _RUN.finditer(text) if _holds_card(match.group(0)))


def contains_card_number(text: str) -> bool:
    """True when ``text`` holds something that looks like a card number."""
    return next(_card_runs(text), None) is not None


def redact_card_numbers(text: str) -> str:
    """``text`` with every run holding a card-like number (and what was typed with it) replaced by a marker."""
    return _RUN.sub(lambda m: REDACTED if _holds_card(m.group(0)) else m.group(0), text)


def had_card_number(text: str) -> bool:
    """True when ``text`` holds a card number or the marker left where one was removed (message
    events are redacted before their listener sees them, and the person must still be warned)."""
    return REDACTED in text or contains_card_number(text)
