"""The database handle: engine, sessions and migrations for one ``DATABASE_URL``."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

_MIGRATION_LOCK = 4_151_001  # any constant; names the "migrating billing-bot" advisory lock

# A pooled read connection idle for longer than this is pinged before use (see create_read_engine).
IDLE_PING_SECONDS = 10.0


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


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _is_memory_sqlite(url: str) -> bool:
    return url.startswith("sqlite") and (url.rstrip("/").endswith(":memory:") or url in ("sqlite://", "sqlite:///"))


def _postgres_connect_args(*, read_only: bool = False) -> dict[str, Any]:
    options = "-c statement_timeout=10000"
    if read_only:
        options += " -c default_transaction_read_only=on"
    return {"connect_timeout": 3, "options": options}


def create_db_engine(url: str) -> Engine:
    """An engine with sane timeouts, so a stuck database fails fast instead of hanging Slack."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        connect_args = _postgres_connect_args()
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args)


def create_read_engine(url: str) -> Engine:
    """An engine for reads only: autocommit (no BEGIN/ROLLBACK round trips around a read) on
    connections the database itself keeps read-only, so a write made here by mistake fails.

    Reads are most of the traffic, so a connection is pinged only after sitting idle for
    ``IDLE_PING_SECONDS`` (a database restart is noticed then) instead of on every checkout:
    under load that saves a round trip per read; a connection broken while busy is discarded by
    the pool on its first error, as SQLAlchemy does for any disconnect.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, isolation_level="AUTOCOMMIT", connect_args={"check_same_thread": False, "timeout": 5}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_query_only)
        _ping_when_idle(engine)
        return engine
    connect_args = _postgres_connect_args(read_only=True) if url.startswith("postgresql") else {}
    engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=10, max_overflow=10, connect_args=connect_args)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    def checked_in(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi)
        except Exception as error:
            raise exc.DisconnectionError("a pooled read connection did not answer its ping") from error
        if not alive:
            raise exc.DisconnectionError("a pooled read connection did not answer its ping")

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


class Database:
    """Hands out sessions. A ``transaction()`` commits on success and rolls back on any error."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or create_db_engine(url)
        # An in-memory SQLite database exists once per connection: reads must share the engine.
        # So must an engine handed in (a test's): a second pool would not see what it sees.
        self.read_engine = self.engine if engine is not None or _is_memory_sqlite(url) else create_read_engine(url)
        # Shared by every session this database hands out (``Session.info``): e.g. where outbound
        # events are recorded (``billing_core.outbound.events.enable``).
        self.session_info: dict[str, Any] = {}
        self._on_dispose: list[Callable[[], None]] = []
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=self.session_info)

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
        """A session for reads only, in one transaction (one snapshot); nothing it does is committed."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A Core connection on the read-only, autocommit engine: the cheapest way to run a read.

        Each statement sees what was committed when it started (there is no snapshot across
        statements), so a read whose figures must agree reads them in one statement.
        """
        with self.read_engine.connect() as connection:
            yield connection

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

    def on_dispose(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when this database is closed, before its connections go (a buffer of
        writes for it flushes there, not into whatever database is opened next)."""
        self._on_dispose.append(callback)

    def dispose(self) -> None:
        callbacks, self._on_dispose = self._on_dispose, []
        for callback in callbacks:
            callback()
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def alembic_config(url: str, engine: Engine | None = None) -> Config:
    config = Config()
    location = resources.files("billing_core.db") / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config
