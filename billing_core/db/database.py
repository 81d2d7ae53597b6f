"""The database handle: engine, sessions and migrations for one ``DATABASE_URL``."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

_MIGRATION_LOCK = 4_151_001  # any constant; names the "migrating billing-bot" advisory lock


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (an in-memory one needs none)."""
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """An engine with sane timeouts, so a stuck database fails fast instead of hanging Slack."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        connect_args = {"connect_timeout": 3, "options": "-c statement_timeout=10000"}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args)


class Database:
    """Hands out sessions. A ``transaction()`` commits on success and rolls back on any error."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or create_db_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only; nothing it does is committed."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def upgrade(self) -> None:
        """Apply every Alembic migration up to head. Safe to run again, also from several
        processes at once: on PostgreSQL an advisory lock lets one migrate while the others wait."""
        if self.dialect == "sqlite":
            with _file_lock(self.engine.url.database):
                command.upgrade(alembic_config(self.url, self.engine), "head")
            return
        if self.dialect != "postgresql":
            command.upgrade(alembic_config(self.url, self.engine), "head")
            return
        with self.engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            lock.commit()
            try:
                command.upgrade(alembic_config(self.url, self.engine), "head")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
                lock.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str, engine: Engine | None = None) -> Config:
    config = Config()
    location = resources.files("billing_core.db") / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config
