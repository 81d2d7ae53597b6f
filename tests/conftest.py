"""Shared fixtures. ``TEST_DATABASE_URL`` (a PostgreSQL URL) runs the suite on PostgreSQL;
otherwise every test gets its own SQLite file, a copy of one migrated once per session
(tests/support/template_db.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from bot.settings import Settings
from tests.support.template_db import migrated_sqlite_url

if TYPE_CHECKING:  # imported by pytest_plugins below: an import here would come before its assert rewriting
    from tests.support.services import MakeServices

# Fixtures every test may name without importing them (a fixture imported by hand is an unused import
# to linters and a redefinition when the test names it).
pytest_plugins = [
    "tests.support.services",  # first: payments and escalations import it, and it is rewritten only if it comes first
    "tests.support.fixtures",
    "tests.support.bot_fixtures",
    "tests.support.payments",
    "tests.support.escalations",
]

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session, when ``TEST_DATABASE_URL`` is set."""
    if not POSTGRES_URL:
        yield None
        return
    from devtools.postgres import temporary_database

    with temporary_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def database_url(tmp_path: Path, postgres_server_url: str | None) -> Iterator[str]:
    """A migrated, empty database: SQLite in a temp dir, or the session's PostgreSQL database."""
    if postgres_server_url is None:
        yield migrated_sqlite_url(tmp_path / "billing.db")  # a copy of the session's migrated template
        return
    db = Database(postgres_server_url)
    db.upgrade()
    _truncate_all(db)
    db.dispose()
    yield postgres_server_url


def _truncate_all(db: Database) -> None:
    from sqlalchemy import inspect, text

    from billing_core.db.base import Base

    # Slack's installation store keeps its own tables (slack_*): emptied too, so no test meets
    # another's installations (encrypted or rotating tokens) on the shared PostgreSQL database.
    slack_tables = [name for name in inspect(db.engine).get_table_names() if name.startswith("slack_")]
    names = ", ".join([table.name for table in Base.metadata.sorted_tables] + slack_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """Wednesday 2026-11-25 10:00 UTC unless a test moves it."""
    return FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, DATABASE_URL=database_url)


@pytest.fixture
def services(settings: Settings, make_services: MakeServices) -> Services:
    return make_services(settings=settings)
