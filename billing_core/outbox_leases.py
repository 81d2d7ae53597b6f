"""The outbox engine every outbox shares (escalation e-mails, outbound events, receipts): the
claim/lease, the due rows, the counts for ``/healthz`` and the exponential backoff. Each outbox
keeps its own state columns (``LeasedRows`` names them) and its own retry policy.

A row is claimed with a compare-and-set UPDATE (``queued``/``sending`` and due -> ``sending``,
``attempts + 1``, due again only when the lease runs out) before anything is sent; the outcome is
written back only if the row is still ours (same ``attempts``: the fencing token). A worker that
died mid-send leaves a ``sending`` row that another takes over once its lease has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

CLAIMABLE = ("queued", "sending")
# The exponent stops growing here (2**20 base delays is beyond any cap), so the delay never overflows.
MAX_DOUBLINGS = 20


def doubling_delay(base: timedelta, cap: timedelta, attempts: int) -> timedelta:
    """The backoff after attempt ``attempts``: ``base``, twice that, four times, ... capped at ``cap``."""
    delay: timedelta = base * (2 ** min(max(0, attempts - 1), MAX_DOUBLINGS))
    return min(delay, cap)


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """Rows per status, and the latest permanently failed rows' keys (newest first)."""

    by_status: dict[str, int]
    failed_keys: list[Any]

    @property
    def pending(self) -> int:
        """Waiting to be sent: queued, or being sent right now."""
        return sum(self.by_status.get(status, 0) for status in CLAIMABLE)

    @property
    def failed(self) -> int:
        return self.by_status.get("failed", 0)


@dataclass(frozen=True, slots=True)
class LeasedRows:
    """The columns of one outbox table that the claim and the write-back use."""

    key: InstrumentedAttribute[Any]
    status: InstrumentedAttribute[Any]
    attempts: InstrumentedAttribute[Any]
    next_attempt_at: InstrumentedAttribute[Any]

    def claim(self, session: Session, row_id: Any, now: datetime, lease: timedelta) -> int | None:
        """Take the row for one attempt; the new ``attempts`` value, or None when it is not ours."""
        table = self.key.class_
        result = session.execute(
            update(table)
            .where(self.key == row_id, self.status.in_(CLAIMABLE), self.next_attempt_at <= now)
            .values(
                {
                    self.status.key: "sending",
                    self.attempts.key: self.attempts + 1,
                    self.next_attempt_at.key: now + lease,
                }
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        attempts: int | None = session.scalar(select(self.attempts).where(self.key == row_id))
        return attempts

    def finish(self, session: Session, row_id: Any, attempt: int, values: dict[str, Any]) -> bool:
        """Write the outcome of attempt ``attempt``; False when another worker took the row over."""
        table = self.key.class_
        result = session.execute(
            update(table)
            .where(self.key == row_id, self.status == "sending", self.attempts == attempt)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1

    def due(
        self,
        session: Session,
        now: datetime,
        *,
        order_by: tuple[Any, ...],
        limit: int,
        columns: tuple[Any, ...] = (),
        where: tuple[ColumnElement[bool], ...] = (),
    ) -> list[tuple[Any, ...]]:
        """Rows that can be claimed now, as ``(key, *columns)``, in ``order_by`` order."""
        rows = session.execute(
            select(self.key, *columns)
            .where(self.status.in_(CLAIMABLE), self.next_attempt_at <= now, *where)
            .order_by(*order_by)
            .limit(limit)
        ).all()
        return [tuple(row) for row in rows]

    def counts(self, session: Session, *, newest_first: Any, failed_limit: int = 10) -> OutboxCounts:
        """How many rows are in each status, and the keys of the latest ``failed_limit`` failed ones."""
        by_status = {
            str(status): int(count)
            for status, count in session.execute(select(self.status, func.count(self.key)).group_by(self.status))
        }
        failed = session.scalars(
            select(self.key).where(self.status == "failed").order_by(newest_first).limit(failed_limit)
        ).all()
        return OutboxCounts(by_status, list(failed))
