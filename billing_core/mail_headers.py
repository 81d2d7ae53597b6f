"""One-line text for e-mail headers (and the lines of a plain-text body).

``EmailMessage`` refuses a header value holding any character Python counts as a line break (CR,
LF, VT, FF, the file/group/record separators, NEL U+0085, U+2028, U+2029), and other control
characters do not belong in a header either. Account names, Slack display names and invoice
numbers come from outside, so every such value is flattened before it becomes a header.
"""

from __future__ import annotations

import unicodedata

_BREAKING = frozenset(("Cc", "Zl", "Zp"))


def one_line(text: str) -> str:
    """``text`` with every control character and line or paragraph separator turned into a space,
    and runs of white space collapsed to one space."""
    spaced = "".join(" " if unicodedata.category(char) in _BREAKING else char for char in text)
    return " ".join(spaced.split())
