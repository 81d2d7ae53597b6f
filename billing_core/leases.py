"""A lease in the database: one process at a time holds it, another takes over once it lapses.

Several ``serve`` / ``socket`` processes share one database, and each runs the scheduler. The
scheduled jobs are safe to run twice (claims), but their side effects are not all free: so only
the holder of the ``scheduler`` lease runs them. The holder renews the lease on every tick; a
holder that dies stops renewing, and after ``ttl`` the next process to tick takes the lease over
(failover without any coordination service). Works on PostgreSQL and SQLite alike: a
compare-and-set ``UPDATE`` whose ``WHERE`` only one process can match, else an ``INSERT`` that
the primary key lets only one process win.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, update
from sqlalchemy.exc import IntegrityError

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import JobLeaseRecord

logger = logging.getLogger(__name__)

SCHEDULER_LEASE = "scheduler"
DEFAULT_TTL = timedelta(seconds=90)


def process_holder_id() -> str:
    """This process, as a lease holder: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobLeases:
    """Take, renew and give back named leases for one holder (this process)."""

    def __init__(self, db: Database, clock: Clock, *, holder: str | None = None, ttl: timedelta = DEFAULT_TTL) -> None:
        self.db = db
        self.clock = clock
        self.holder = holder or process_holder_id()
        self.ttl = ttl
        self._held: set[str] = set()

    def hold(self, name: str = SCHEDULER_LEASE) -> bool:
        """True if this holder has the lease for the next ``ttl`` (taken, renewed or taken over)."""
        now = self.clock.now()
        expires = now + self.ttl
        record = JobLeaseRecord
        try:
            with self.db.transaction() as session:
                renewed = cast(
                    CursorResult[Any],
                    session.execute(
                        update(record)
                        .where(record.name == name, or_(record.holder == self.holder, record.expires_at < now))
                        .values(holder=self.holder, expires_at=expires)
                        .execution_options(synchronize_session=False)
                    ),
                ).rowcount
                if not renewed:
                    session.add(record(name=name, holder=self.holder, acquired_at=now, expires_at=expires))
                    session.flush()
        except IntegrityError:
            held = False  # the row exists and another live holder has it
        else:
            held = True
        self._log_change(name, held)
        return held

    def release(self, name: str = SCHEDULER_LEASE) -> None:
        """Give the lease back (a clean shutdown): another process takes over at its next tick."""
        with self.db.transaction() as session:
            session.execute(
                delete(JobLeaseRecord).where(JobLeaseRecord.name == name, JobLeaseRecord.holder == self.holder)
            )
        self._held.discard(name)

    def _log_change(self, name: str, held: bool) -> None:
        if held and name not in self._held:
            logger.info("this process (%s) now runs the %s jobs", self.holder, name)
            self._held.add(name)
        elif not held and name in self._held:
            logger.warning("another process took over the %s jobs from %s", name, self.holder)
            self._held.discard(name)
