"""Recording an outbound event inside the transaction of the happening it reports.

The row is added to the caller's session, so it commits with the payment's settlement or the
escalation's creation and disappears with their rollback. After the commit, the sink configured
on the database (``enable``) is woken so a delivery thread sends it at once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord

SINK_KEY = "billing_outbound_sink"
_PENDING_KEY = "billing_outbound_pending"

WEBHOOK = "webhook"
EMAIL = "email"


def _no_wake() -> None:
    return None


@dataclass
class OutboundSink:
    """Which channels record events on one database, and who to wake when some were committed."""

    channels: frozenset[str]
    wake: Callable[[], None] = field(default=_no_wake)


def enable(db: Database, sink: OutboundSink) -> None:
    """Record events for ``sink.channels`` in every session of ``db`` from now on."""
    db.session_info[SINK_KEY] = sink


def sink_of(db: Database) -> OutboundSink | None:
    sink = db.session_info.get(SINK_KEY)
    return sink if isinstance(sink, OutboundSink) else None


def new_event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


def record_event(
    session: Session, *, channel: str, type: str, subject: str, data: dict[str, Any], now: datetime
) -> str | None:
    """Queue one event in ``session``'s transaction; its id, or None when the channel is off."""
    sink = session.info.get(SINK_KEY)
    if not isinstance(sink, OutboundSink) or channel not in sink.channels:
        return None
    event_id = new_event_id()
    body = {"id": event_id, "type": type, "created": int(now.timestamp()), "data": data}
    session.add(
        OutboundEventRecord(
            id=event_id,
            channel=channel,
            type=type,
            subject=subject,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.info[_PENDING_KEY] = True
    return event_id


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_PENDING_KEY, False):
        sink = session.info.get(SINK_KEY)
        if isinstance(sink, OutboundSink):
            sink.wake()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
