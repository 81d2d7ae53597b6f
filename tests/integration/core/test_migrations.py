from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from billing_core.db.database import Database
from billing_core.db.schema import schema_differences


def test_the_migrations_build_exactly_the_schema_the_code_expects(db: Database) -> None:
    # As `alembic check` does: a model changed without a revision fails here, on both databases.
    assert schema_differences(db) == []


def test_upgrading_twice_is_harmless(db: Database) -> None:
    db.upgrade()
    db.upgrade()
    assert db.ping()


@pytest.mark.process
def test_several_processes_can_migrate_the_same_database_at_once(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        migrate_fresh(f"sqlite:///{tmp_path / 'fresh.db'}")  # a database nobody migrated yet
        return
    from devtools.postgres import fresh_database

    with fresh_database(os.environ["TEST_DATABASE_URL"]) as url:
        migrate_fresh(url)


def migrate_fresh(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(run.wait(timeout=120), run.stderr.read() if run.stderr else "") for run in runs]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    database = Database(url)
    assert database.ping()
    database.dispose()
