from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from billing_core.db import tables  # noqa: F401
from billing_core.db.base import Base
from billing_core.db.database import Database


def test_the_migrations_build_exactly_the_schema_the_code_expects(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = [
            d for d in compare_metadata(context, Base.metadata)
            if not (isinstance(d, tuple) and str(d[1]).startswith("slack_"))
            and "slack_" not in repr(d)
        ]
    assert differences == []


def test_upgrading_twice_is_harmless(db: Database) -> None:
    db.upgrade()
    db.upgrade()
    assert db.ping()
