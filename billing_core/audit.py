"""The audit trail: who did what to which account, when, and how it ended."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, AuditEventRecord
from billing_core.views import Actor


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    principal: str | None
    account_external_id: str | None
    action: str
    target: str | None
    outcome: str
    detail: dict[str, Any]


def add_audit_event(
    session: Session,
    *,
    at: datetime,
    actor: Actor | None,
    action: str,
    outcome: str,
    account_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the caller's transaction: it lands with the change it describes."""
    session.add(
        AuditEventRecord(
            at=at,
            actor=actor.email if actor else "system",
            principal=actor.principal if actor else None,
            account_id=account_id,
            action=action,
            target=target,
            outcome=outcome,
            detail=json.dumps(detail or {}, sort_keys=True, default=str),
        )
    )


class AuditLog:
    """Records events that stand alone (a refused forgery) and reads the trail back."""

    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(
        self,
        *,
        actor: Actor | None,
        action: str,
        outcome: str,
        account_external_id: str | None = None,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record one event in its own transaction."""
        with self._db.transaction() as session:
            account_id = None
            if account_external_id:
                account_id = session.scalar(
                    select(AccountRecord.id).where(AccountRecord.external_id == account_external_id)
                )
            add_audit_event(
                session,
                at=self._clock.now(),
                actor=actor,
                action=action,
                outcome=outcome,
                account_id=account_id,
                target=target,
                detail=detail,
            )

    def entries(
        self, *, account_external_id: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[AuditEntry]:
        """The trail, oldest first, optionally for one account and from a point in time."""
        with self._db.read() as session:
            query = select(AuditEventRecord, AccountRecord.external_id).outerjoin(
                AccountRecord, AccountRecord.id == AuditEventRecord.account_id
            )
            if account_external_id is not None:
                query = query.where(AccountRecord.external_id == account_external_id)
            if since is not None:
                query = query.where(AuditEventRecord.at >= since)
            rows = session.execute(query.order_by(AuditEventRecord.at, AuditEventRecord.id).limit(limit)).all()
            return [
                AuditEntry(
                    at=event.at,
                    actor=event.actor,
                    principal=event.principal,
                    account_external_id=external_id,
                    action=event.action,
                    target=event.target,
                    outcome=event.outcome,
                    detail=json.loads(event.detail or "{}"),
                )
                for event, external_id in rows
            ]
