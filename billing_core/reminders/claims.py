"""Claims: a reminder row is written before its DM is sent, under a unique constraint.

Two sweeps (two processes, one database) racing for the same (invoice, contact, step): the
insert of one wins and the other's ``ON CONFLICT DO NOTHING`` returns nothing. A failed or
stale claim is taken over with a compare-and-set ``UPDATE`` whose ``WHERE`` only one can match.
Lifecycle: claimed -> sent, or claimed -> failed (retried while attempts < MAX_ATTEMPTS).

A claim taken over while its DM may already have gone out (a stale claim, left by a process that
stopped between sending and recording; or a failure marked :data:`UNCONFIRMED`, such as a post
that timed out) is reported to the sweep as unconfirmed (``claim_many(unconfirmed=...)``): the
DM is looked for in the person's chat before it is posted again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, ReminderDeliveryRecord, ReminderPauseRecord
from billing_core.reminders.plan import DueReminder, PlanWindow
from billing_core.reminders.preferences import mark_introduced

Delivery = ReminderDeliveryRecord

# Opens the error of a failed claim whose DM may have gone out all the same: its retry looks first.
UNCONFIRMED = "unconfirmed: "
_EXPIRED = "claim expired before the send was confirmed"  # expire_stale_claims' error, unmarked before


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
    return claim_many(db, [reminders], window)[0]


def claim_many(
    db: Database,
    groups: Sequence[Sequence[DueReminder]],
    window: PlanWindow,
    *,
    unconfirmed: set[int] | None = None,
) -> list[list[tuple[int, DueReminder]]]:
    """:func:`claim` for several DMs in one transaction (a sweep's next sends): for each group of
    reminders, (delivery id, reminder) of the claims won, in the group's order. ``unconfirmed``,
    when given, gets the delivery ids whose DM an earlier attempt may have posted
    (:func:`take_over_many`); a first claim is never among them."""
    with db.transaction() as session:
        invoice_ids = {r.invoice_id for reminders in groups for r in reminders}
        still_open: set[int] = set()
        paused: set[tuple[int, int]] = set()
        for part in _parts(sorted(invoice_ids)):
            still_open.update(
                session.scalars(
                    select(InvoiceRecord.id).where(InvoiceRecord.id.in_(part), InvoiceRecord.status == "open")
                )
            )
            paused.update(
                (invoice_id, contact_id)
                for invoice_id, contact_id in session.execute(
                    select(ReminderPauseRecord.invoice_id, ReminderPauseRecord.contact_id).where(
                        ReminderPauseRecord.invoice_id.in_(part), ReminderPauseRecord.until > window.now
                    )
                )
            )
        wanted = {
            (r.invoice_id, r.contact_id, r.step): r
            for reminders in groups
            for r in reminders
            if r.invoice_id in still_open and (r.invoice_id, r.contact_id) not in paused
        }
        rows = [
            {"invoice_id": i, "contact_id": c, "step": s, "status": "claimed", "attempts": 1, "claimed_at": window.now}
            for (i, c, s) in wanted
        ]
        won: dict[tuple[int, int, int], int] = {}
        for start in range(0, len(rows), _ROWS):
            won.update(
                ((i, c, s), delivery_id)
                for delivery_id, i, c, s in insert_ignoring_conflicts(session, rows[start : start + _ROWS])
            )
        won.update(take_over_many(session, list(wanted.keys() - won.keys()), window, unconfirmed=unconfirmed))
    return [
        [(won[key], r) for r in reminders if (key := (r.invoice_id, r.contact_id, r.step)) in won and wanted[key] is r]
        for reminders in groups
    ]


_ROWS = 500  # rows per multi-row INSERT (SQLite allows 32,766 parameters; 7 a row)


def _parts(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _ROWS):
        yield ids[start : start + _ROWS]


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


def take_over_many(
    session: Session,
    keys: list[tuple[int, int, int]],
    window: PlanWindow,
    *,
    unconfirmed: set[int] | None = None,
) -> dict[tuple[int, int, int], int]:
    """:func:`take_over` for many (invoice, contact, step) keys, two statements per ``_ROWS``: first
    the claims whose DM may have gone out (a stale claim, or a failure marked :data:`UNCONFIRMED`),
    their ids added to ``unconfirmed`` when given; then the other failed ones."""
    won: dict[tuple[int, int, int], int] = {}
    retry = and_(Delivery.status == "failed", Delivery.attempts < window.max_attempts)
    maybe_sent = or_(
        and_(Delivery.status == "claimed", Delivery.claimed_at < window.stale_before),
        and_(retry, or_(Delivery.error.startswith(UNCONFIRMED, autoescape=True), Delivery.error == _EXPIRED)),
    )
    for start in range(0, len(keys), _ROWS):
        part = keys[start : start + _ROWS]
        for condition in (maybe_sent, retry):
            if not part:
                break
            statement = (
                update(Delivery)
                .where(tuple_(Delivery.invoice_id, Delivery.contact_id, Delivery.step).in_(part), condition)
                .values(status="claimed", claimed_at=window.now, attempts=Delivery.attempts + 1, error=None)
                .returning(Delivery.id, Delivery.invoice_id, Delivery.contact_id, Delivery.step)
                .execution_options(synchronize_session=False)
            )
            taken = {(i, c, s): delivery_id for delivery_id, i, c, s in session.execute(statement)}
            if condition is maybe_sent and unconfirmed is not None:
                unconfirmed.update(taken.values())
            won.update(taken)
            part = [key for key in part if key not in taken]
    return won


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


@dataclass(frozen=True, slots=True)
class Sent:
    """A DM that went out: its delivery rows and where it is."""

    ids: Sequence[int]
    channel: str | None
    ts: str | None
    workspace: str = ""
    withheld: bool = False


def record_outcomes(
    db: Database,
    *,
    at: datetime,
    sent: Sequence[Sent] = (),
    released: Sequence[tuple[Sequence[int], str]] = (),
    failed: Sequence[tuple[Sequence[int], str]] = (),
    introduced: Iterable[int] = (),
) -> None:
    """What became of a batch of claimed DMs, in one transaction: :func:`mark_sent` for each sent
    one (one executemany), :func:`release` and :func:`mark_failed` for the others (with their
    reason), and ``introduced`` contacts marked (``preferences.mark_introduced``)."""
    with db.transaction() as session:
        rows = [
            {
                "delivery_id": i, "channel": one.channel, "ts": one.ts, "workspace": one.workspace or None,
                "withheld": one.withheld,
            }
            for one in sent
            for i in one.ids
        ]  # fmt: skip
        if rows:
            session.connection().execute(
                update(Delivery)
                .where(Delivery.id == bindparam("delivery_id"), Delivery.status == "claimed")
                .values(
                    status="sent",
                    sent_at=at,
                    channel=bindparam("channel"),
                    message_ts=bindparam("ts"),
                    error=None,
                    workspace=bindparam("workspace"),
                    withheld=bindparam("withheld"),
                ),
                rows,
            )
        for ids, reason in released:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == "claimed")
                .values(status="failed", attempts=Delivery.attempts - 1, error=reason)
            )
        for ids, error in failed:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == "claimed")
                .values(status="failed", error=error[:2000])
            )
        contacts = set(introduced)
        if contacts:
            mark_introduced(session, contacts, at)


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
    return record_skipped_many(db, [reminders], at=at, reason=reason)[0]


def record_skipped_many(
    db: Database, groups: Sequence[Sequence[DueReminder]], *, at: datetime, reason: str
) -> list[int]:
    """:func:`record_skipped` for several DMs in one transaction; how many were new, per group."""
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
        for reminders in groups
        for r in reminders
    ]
    new: set[tuple[int, int, int]] = set()
    with db.transaction() as session:
        for start in range(0, len(rows), _ROWS):
            new.update((i, c, s) for _, i, c, s in insert_ignoring_conflicts(session, rows[start : start + _ROWS]))
    return [sum(1 for r in reminders if (r.invoice_id, r.contact_id, r.step) in new) for reminders in groups]


def expire_stale_claims(db: Database, *, stale_before: datetime) -> int:
    """Turn claims abandoned by a stopped process into failures, to be retried; returns how many."""
    with db.transaction() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.status == "claimed", Delivery.claimed_at < stale_before)
            .values(status="failed", error=UNCONFIRMED + _EXPIRED)
            .returning(Delivery.id)
        )
        return len(result.all())
