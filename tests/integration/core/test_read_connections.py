"""The read-only connections the hot reads use: cheap, but never a way to change data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError

from billing_core.db import database as database_module
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord


def _accounts(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AccountRecord)).scalar_one())


def test_a_write_through_a_read_connection_is_refused_and_changes_nothing(db: Database) -> None:
    before = _accounts(db)
    with pytest.raises(DBAPIError, match=r"(?i)read-?only"), db.reading() as connection:
        connection.execute(
            text(
                "INSERT INTO billing_account (external_id, name, currency, created_at, updated_at)"
                " VALUES ('x', 'X', 'usd', :now, :now)"
            ),
            {"now": datetime(2026, 11, 25, tzinfo=UTC)},
        )
    assert _accounts(db) == before


def test_a_read_connection_sees_what_was_committed_just_before(db: Database) -> None:
    with db.reading() as connection:  # a pooled read connection, reused below
        assert connection.execute(select(func.count()).select_from(AccountRecord)).scalar_one() == 0
    with db.transaction() as session:
        now = datetime(2026, 11, 25, tzinfo=UTC)
        session.add(AccountRecord(external_id="acme", name="Acme", currency="usd", created_at=now, updated_at=now))
    with db.reading() as connection:
        assert connection.execute(select(AccountRecord.name)).scalars().all() == ["Acme"]


def test_a_read_connection_idle_for_a_while_is_checked_before_use(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    real_ping = db.read_engine.dialect.do_ping

    def counting_ping(dbapi_connection: DBAPIConnection) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(db.read_engine.dialect, "do_ping", counting_ping)
    for _ in range(3):  # busy: no ping
        with db.reading() as connection:
            connection.execute(text("SELECT 1"))
    assert pings == []
    monkeypatch.setattr(database_module, "IDLE_PING_SECONDS", 0.0)
    with db.reading() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    assert len(pings) == 1
