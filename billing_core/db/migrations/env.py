"""Alembic environment: uses the engine handed over by ``Database.upgrade`` when there is one."""

from alembic import context
from sqlalchemy import create_engine

from billing_core.db import tables  # noqa: F401  (registers the records on the metadata)
from billing_core.db.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
