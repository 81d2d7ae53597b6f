"""Claims: a reminder row is written before its DM is sent, under a unique constraint.

Two sweeps (two processes, one database) racing for the same (invoice, contact, step): the
insert of one wins and the other's ``ON CONFLICT DO NOTHING`` returns nothing. A failed or
stale claim is taken over with a compare-and-set ``UPDATE`` whose ``WHERE`` only one can match.
Lifecycle: claimed -> sent, or claimed -> failed (retried while attempts < MAX_ATTEMPTS).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, ReminderDeliveryRecord, ReminderPauseRecord
from billing_core.reminders.plan import DueReminder, PlanWindow

Delivery = ReminderDeliveryRecord


def insert_ignoring_conflicts(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int, int, int]]:
    """Insert delivery rows; return (id, invoice_id, contact_id, step) of those that were new."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Delivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["invoice_id", "contact_id", "step"])
        .returning(Delivery.id, Delivery.invoice_id, Delivery.contact_id, Delivery.step)
    )
    return [tuple(row) for row in session.execute(statement).all()]  # type: ignore[misc]


def claim(db: Database, reminders: Sequence[DueReminder], window: PlanWindow) -> list[tuple[int, DueReminder]]:
    """Claim what is still due and unpaused; return (delivery id, reminder) for each claim won."""
    with db.transaction() as session:
        invoice_ids = {r.invoice_id for r in reminders}
        still_open = set(
            session.scalars(
                select(InvoiceRecord.id).where(InvoiceRecord.id.in_(invoice_ids), InvoiceRecord.status == "open")
            )
        )
        paused = {
            (invoice_id, contact_id)
            for invoice_id, contact_id in session.execute(
                select(ReminderPauseRecord.invoice_id, ReminderPauseRecord.contact_id).where(
                    ReminderPauseRecord.invoice_id.in_(invoice_ids), ReminderPauseRecord.until > window.now
                )
            )
        }
        wanted = {
            (r.invoice_id, r.contact_id, r.step): r
            for r in reminders
            if r.invoice_id in still_open and (r.invoice_id, r.contact_id) not in paused
        }
        rows = [
            {"invoice_id": i, "contact_id": c, "step": s, "status": "claimed", "attempts": 1, "claimed_at": window.now}
            for (i, c, s) in wanted
        ]
        won = {(i, c, s): delivery_id for delivery_id, i, c, s in insert_ignoring_conflicts(session, rows)}
        for key in wanted.keys() - won.keys():
            taken = take_over(session, key, window)
            if taken is not None:
                won[key] = taken
        return [(delivery_id, wanted[key]) for key, delivery_id in won.items()]


def take_over(session: Session, key: tuple[int, int, int], window: PlanWindow) -> int | None:
    invoice_id, contact_id, step = key
    statement = (
        update(Delivery)
        .where(
            Delivery.invoice_id == invoice_id,
            Delivery.contact_id == contact_id,
            Delivery.step == step,
            or_(
                and_(Delivery.status == "failed", Delivery.attempts < window.max_attempts),
                and_(Delivery.status == "claimed", Delivery.claimed_at < window.stale_before),
            ),
        )
        .values(status="claimed", claimed_at=window.now, attempts=Delivery.attempts + 1, error=None)
        .returning(Delivery.id)
    )
    taken: int | None = session.scalar(statement)
    return taken


def mark_sent(
    db: Database,
    ids: Sequence[int],
    *,
    at: datetime,
    channel: str | None,
    ts: str | None,
    workspace: str = "",
    withheld: bool = False,
) -> None:
    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == "claimed")
            .values(
                status="sent",
                sent_at=at,
                channel=channel,
                message_ts=ts,
                error=None,
                workspace=workspace or None,
                withheld=withheld,
            )
        )


def mark_failed(db: Database, ids: Sequence[int], error: str) -> None:
    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == "claimed")
            .values(status="failed", error=error[:2000])
        )


def release(db: Database, ids: Sequence[int], reason: str) -> None:
    """Give claims back untried (rate limited before sending): the attempt does not count."""
    with db.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == "claimed")
            .values(status="failed", attempts=Delivery.attempts - 1, error=reason)
        )


def record_skipped(db: Database, reminders: Sequence[DueReminder], *, at: datetime, reason: str) -> int:
    """Note reminders that cannot be delivered (person not in the workspace); returns how many."""
    rows = [
        {
            "invoice_id": r.invoice_id,
            "contact_id": r.contact_id,
            "step": r.step,
            "status": "skipped",
            "attempts": 0,
            "claimed_at": at,
            "error": reason,
        }
        for r in reminders
    ]
    with db.transaction() as session:
        return len(insert_ignoring_conflicts(session, rows))


def expire_stale_claims(db: Database, *, stale_before: datetime) -> int:
    """Turn claims abandoned by a stopped process into failures, to be retried; returns how many."""
    with db.transaction() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.status == "claimed", Delivery.claimed_at < stale_before)
            .values(status="failed", error="claim expired before the send was confirmed")
            .returning(Delivery.id)
        )
        return len(result.all())
