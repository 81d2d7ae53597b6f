"""What every ``billing-bot`` command shares: one-line failures, settings, dates, the schema check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import NoReturn, TypeVar

import typer

from billing_core.errors import BillingError, ConfigurationError
from bot.settings import Settings, get_settings

R = TypeVar("R")


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit non-zero."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def not_available(what: str) -> NoReturn:
    fail(f"{what} is not available yet", code=2)


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ConfigurationError as error:
        fail(f"configuration error: {error}")


def guarded(action: Callable[[], R]) -> R:
    """Run ``action``; turn domain and configuration errors into a one-line failure."""
    try:
        return action()
    except ConfigurationError as error:
        fail(f"configuration error: {error}")
    except BillingError as error:
        fail(f"error: {error}")


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now must be an ISO-8601 date or time, got {value!r}")
    if moment.tzinfo is None:
        settings = settings_or_exit()
        moment = moment.replace(tzinfo=settings.timezone)
    return moment


def parse_date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date (YYYY-MM-DD), got {value!r}")


def require_current_schema(settings: Settings) -> None:
    """Refuse, in one line naming `billing-bot db upgrade`, a database behind this release."""
    from billing_core.db.database import Database
    from billing_core.db.schema import SchemaNotCurrent
    from billing_core.db.schema import require_current_schema as check

    database = Database(settings.database_url)
    try:
        check(database)
    except SchemaNotCurrent as error:
        fail(f"error: {error}")
    except Exception as error:
        fail(f"database unavailable: {type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
    finally:
        database.dispose()
