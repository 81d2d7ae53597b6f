"""Logging: text or JSON lines, a correlation id per request, and no secrets or card numbers ever.

Every record passes through ``RedactingFilter`` on the root handler, so even a library that logs a
request body or an exception message cannot leak a token, a key or a card number.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from billing_core.card_guard import redact_card_numbers

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")

_SECRET_PATTERNS = [
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"\b[sr]k_(?:test|live)_[A-Za-z0-9]+"),
    re.compile(r"whsec_[A-Za-z0-9]+"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password in URLs
]


def new_correlation_id() -> str:
    """Start a new correlation id for the current request or job and return it."""
    value = uuid.uuid4().hex[:12]
    correlation_id.set(value)
    return value


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without known secret values, token-shaped strings or card numbers."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[secret]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[secret]", text)
    return redact_card_numbers(text)


class RedactingFilter(logging.Filter):
    """Renders each record's message once, redacted, and stamps the correlation id on it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message = message + "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message, self._secrets)
        record.args = None
        record.correlation_id = correlation_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "correlation_id": getattr(record, "correlation_id", "-"),
                "message": record.getMessage(),
            }
        )


def configure_logging(*, level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_billing_bot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._billing_bot = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
