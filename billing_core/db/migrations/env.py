"""Alembic environment: uses the engine handed over by ``Database.upgrade`` when there is one.

The revision is kept in ``billing_schema_version`` (see ``billing_core.db.schema`` for why the
releases before 0002 keep ``alembic_version`` at 0001).
"""

from alembic import context
from sqlalchemy import create_engine

from billing_core.db import tables  # noqa: F401  (registers the records on the metadata)
from billing_core.db.base import Base
from billing_core.db.schema import VERSION_TABLE, adopt_legacy_version, keep_legacy_marker

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        adopt_legacy_version(connection)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            version_table=VERSION_TABLE,
        )
        with context.begin_transaction():
            context.run_migrations()
        keep_legacy_marker(connection)


run_migrations()
