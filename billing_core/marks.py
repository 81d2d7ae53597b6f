"""Marks shared by every process on the database: "this happened once already".

Slack redelivers an event it thinks was lost, and with several processes behind a load balancer
the retry may reach another process than the first delivery. Process-local memory cannot see
that; a row can: the first ``claim`` of a (kind, key) inserts it, every later one finds it.
Marks expire (``ttl``) and are purged as they go, so the table stays small.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import OnceMarkRecord

DEFAULT_TTL = timedelta(hours=1)
PURGE_EVERY = 500  # claims between two purges of expired marks, per process


class OnceMarks:
    """``claim(kind, key)`` is true exactly once across processes until the mark expires."""

    def __init__(self, db: Database, clock: Clock, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self.db = db
        self.clock = clock
        self.ttl = ttl
        self._claims = 0

    def claim(self, kind: str, key: str) -> bool:
        """True for the first caller of ``(kind, key)`` within ``ttl``; False for every later one."""
        now = self.clock.now()
        record = OnceMarkRecord
        with self.db.transaction() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                # No wait for the WAL flush: a mark lost in a database crash costs at most one
                # repeated effect of a redelivery, and the flush was most of an event's cost.
                session.execute(text("SET LOCAL synchronous_commit = off"))
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = (
                insert(record).values(kind=kind, key=key[:255], at=now).on_conflict_do_nothing().returning(record.key)
            )
            inserted = session.execute(statement).first() is not None
            if not inserted:
                # An expired mark no longer counts: take it over in place.
                taken = cast(
                    CursorResult[Any],
                    session.execute(
                        update(record)
                        .where(record.kind == kind, record.key == key[:255], record.at < now - self.ttl)
                        .values(at=now)
                        .execution_options(synchronize_session=False)
                    ),
                )
                inserted = taken.rowcount == 1
        self._claims += 1
        if self._claims % PURGE_EVERY == 0:
            self.purge()
        return inserted

    def seen(self, kind: str, key: str) -> bool:
        """True while a mark of ``(kind, key)`` exists and has not expired."""
        with self.db.reading() as connection:
            at = connection.execute(
                select(OnceMarkRecord.at).where(OnceMarkRecord.kind == kind, OnceMarkRecord.key == key[:255])
            ).scalar_one_or_none()
        return at is not None and at >= self.clock.now() - self.ttl

    def release(self, kind: str, key: str) -> None:
        """Forget a mark (the work it guarded failed: a redelivery should try again)."""
        with self.db.transaction() as session:
            session.execute(delete(OnceMarkRecord).where(OnceMarkRecord.kind == kind, OnceMarkRecord.key == key[:255]))

    def purge(self) -> int:
        """Delete expired marks; returns how many."""
        with self.db.transaction() as session:
            removed = cast(
                CursorResult[Any],
                session.execute(delete(OnceMarkRecord).where(OnceMarkRecord.at < self.clock.now() - self.ttl)),
            )
            return int(removed.rowcount)
