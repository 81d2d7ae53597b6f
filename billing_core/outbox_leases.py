"""The claim/lease pattern every outbox shares (escalation e-mails, outbound events, receipts).

A row is claimed with a compare-and-set UPDATE (``queued``/``sending`` and due -> ``sending``,
``attempts + 1``, due again only when the lease runs out) before anything is sent; the outcome is
written back only if the row is still ours (same ``attempts``: the fencing token). A worker that
died mid-send leaves a ``sending`` row that another takes over once its lease has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

CLAIMABLE = ("queued", "sending")


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
