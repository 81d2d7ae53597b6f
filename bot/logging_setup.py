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
from typing import TYPE_CHECKING, TextIO
from urllib.parse import unquote, urlsplit

from billing_core.card_guard import redact_card_numbers

if TYPE_CHECKING:
    from bot.settings import Settings

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")

_SECRET_PATTERNS = [
    # Slack tokens, also rotating ones: refresh tokens ``xoxe-1-...`` and ``xoxe.xoxb-1-...``.
    re.compile(r"xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"\b[sr]k_(?:test|live)_[A-Za-z0-9]+"),
    re.compile(r"whsec_[A-Za-z0-9]+"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password in URLs
    re.compile(r"\b[a-z]+_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"),  # PaymentIntent/SetupIntent client secrets
    # 3-D Secure links: whoever holds the link can see the payment and complete it.
    re.compile(r"(?<=/stripe/authenticate/)[^\s/?#\"'<>]+"),
    re.compile(r"\b\d{1,12}(?:\.\d{1,12})?\.[0-9a-f]{32}\b"),
    # The OAuth ``code`` (and ``state``) in a query string, a form or a logged dict.
    re.compile(r"(?<=[?&\s]code=)[^&\s'\"]+|(?<=[?&\s]state=)[^&\s'\"]+|(?<=^code=)[^&\s'\"]+"),
    re.compile(r"(?<=['\"]code['\"]: ['\"])[^'\"]+|(?<=['\"]state['\"]: ['\"])[^'\"]+"),
]

# Libraries whose DEBUG records carry whole request and response bodies (escalation texts, client
# secrets, Slack payloads, billing data in acks): a record of theirs is cut at its first body.
_BODY_DUMPING_LOGGERS = ("slack_sdk", "slack_bolt", "stripe")
_BODY_START = re.compile(r", query_params:|, headers:|,? body[:=] ?|post_data=")


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
        if record.name.startswith(_BODY_DUMPING_LOGGERS):
            message = _without_body(message)
        if record.exc_info:
            message = message + "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message, self._secrets)
        record.args = None
        record.correlation_id = correlation_id.get()
        return True


def _without_body(message: str) -> str:
    found = _BODY_START.search(message)
    return message if found is None else message[: found.start()] + " [body omitted]"


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


def configure_logging(
    *, level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Install one handler on the root logger, writing to ``stream`` (stderr); idempotent."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_billing_bot", False):
            root.removeHandler(old)
    handler = logging.StreamHandler(stream or _Stderr())
    handler._billing_bot = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Alembic narrates its plugin set-up and every revision at INFO: only a debugging run wants that.
    logging.getLogger("alembic").setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)


class _Stderr:
    """Whatever ``sys.stderr`` is when a record is written (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def secret_values(settings: Settings) -> list[str]:
    """Every secret value the settings hold (tokens, keys, passwords inside URLs), for redaction."""
    values = [
        secret.get_secret_value()
        for secret in (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.slack_client_secret,
            settings.slack_token_encryption_key,
            settings.metrics_token,
            settings.stripe_api_key,
            settings.stripe_webhook_secret,
            settings.smtp_url,
            settings.outbound_webhook_secret,
        )
        if secret is not None
    ]
    for url in (
        settings.smtp_url.get_secret_value() if settings.smtp_url else "",
        settings.database_url,
        settings.outbound_webhook_url or "",
    ):
        password = _url_password(url)
        if password:
            values.append(password)
    return [value for value in values if value]


def configure_from_settings(settings: Settings, *, level: str | None = None) -> None:
    """``configure_logging`` with ``LOG_LEVEL`` (or ``level``), ``LOG_FORMAT`` and every secret."""
    configure_logging(level=level or settings.log_level, fmt=settings.log_format, secrets=secret_values(settings))


def _url_password(url: str) -> str | None:
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None
