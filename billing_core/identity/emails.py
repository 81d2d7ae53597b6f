"""E-mail addresses: normalised once, compared case-insensitively everywhere."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """Strip surrounding spaces and lowercase: how e-mails are stored and matched."""
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    return bool(_EMAIL.match(email.strip())) and len(email.strip()) <= 320
