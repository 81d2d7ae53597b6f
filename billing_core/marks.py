"""Marks shared by every process on the database: "this happened once already".

Slack redelivers an event it thinks was lost, and with several processes behind a load balancer
the retry may reach another process than the first delivery. Process-local memory cannot see
that; a row can: the first ``claim`` of a (kind, key) inserts it, every later one finds it.
Marks expire (``ttl``) and are purged as they go, so the table stays small.

``note`` is the cheap form for a first delivery that no one else can have taken yet: the mark is
queued and written with others in one conflict-free insert by a background loop (the
``billing_core.background`` port) within ``FLUSH_SECONDS``, off the request's path (see
``handlers.runtime.seen_events`` for why a Slack event's first delivery may be noted and its
retries must be claimed).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from billing_core.background import Background, Loop
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import OnceMarkRecord

logger = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(hours=1)
PURGE_EVERY = 500  # claims between two purges of expired marks, per process
FLUSH_SECONDS = 0.1  # a noted mark is in the database at most this long after ``note`` (plus the write)


class OnceMarks:
    """``claim(kind, key)`` is true exactly once across processes until the mark expires."""

    def __init__(
        self, db: Database, clock: Clock, *, ttl: timedelta = DEFAULT_TTL, background: Background | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.ttl = ttl
        self._claims = 0
        self._pending: dict[tuple[str, str], None] = {}  # noted, not yet written (in order)
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # a release waits for a write under way (it may hold its key)
        self._background = background
        self._writer: Loop | None = None

    def note(self, kind: str, key: str) -> None:
        """Mark ``(kind, key)`` as claimed without waiting: queued, and written with the others
        noted meanwhile in one ``INSERT ... ON CONFLICT DO NOTHING`` within ``FLUSH_SECONDS`` by the
        background loop. For a key no other process can be claiming at the same time; a later
        ``claim`` elsewhere finds the mark once it is written. Without a ``background``, written now."""
        with self._pending_lock:
            self._pending[(kind, key[:255])] = None
            start = self._background is not None and self._writer is None
            if start:
                assert self._background is not None
                self._writer = self._background.loop("once-marks", self._flush_quietly, FLUSH_SECONDS)
        if self._writer is None:
            self.flush()
        elif start:
            self._writer.start()

    def flush(self) -> int:
        """Write every noted mark now (one statement); returns how many were new."""
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> int:
        with self._pending_lock:
            batch, self._pending = list(self._pending), {}
        if not batch:
            return 0
        now = self.clock.now()
        rows = [{"kind": kind, "key": key, "at": now} for kind, key in batch]
        try:
            with self.db.transaction() as session:
                dialect = session.get_bind().dialect.name
                if dialect == "postgresql":
                    session.execute(text("SET LOCAL synchronous_commit = off"))
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                statement = insert(OnceMarkRecord).values(rows).on_conflict_do_nothing().returning(OnceMarkRecord.key)
                written = len(session.execute(statement).all())
        except Exception:
            with self._pending_lock:  # kept for the next round
                self._pending = {**dict.fromkeys(batch), **self._pending}
            raise
        if written < len(batch):  # only an expired mark of the same key, or a claim that came first
            logger.info("%d of %d noted marks were there already", len(batch) - written, len(batch))
        return written

    def stop(self) -> None:
        """Stop the background writer and write what is queued (shutdown)."""
        if self._writer is not None:
            self._writer.stop()
        self.flush()

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:  # the database is away: the marks stay queued for the next round
            logger.exception("could not write noted marks; retrying")

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
        with self._pending_lock:
            self._pending.pop((kind, key[:255]), None)
        with self._flush_lock, self.db.transaction() as session:
            session.execute(delete(OnceMarkRecord).where(OnceMarkRecord.kind == kind, OnceMarkRecord.key == key[:255]))

    def purge(self) -> int:
        """Delete expired marks; returns how many."""
        with self.db.transaction() as session:
            removed = cast(
                CursorResult[Any],
                session.execute(delete(OnceMarkRecord).where(OnceMarkRecord.at < self.clock.now() - self.ttl)),
            )
            return int(removed.rowcount)
