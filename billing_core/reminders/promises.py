"""Promises to pay and staff holds: an account's reminders paused for every contact until a day.

A promise ("I'll pay on <date>") is made by a billing contact of the account (the membership
guard), for a day after today and at most ``PROMISE_MAX_DAYS`` ahead in the billing time zone. The
account's reminders pause until the end of that day; a newer promise replaces an open one. When
the day has passed, the sweep settles it first thing: ``broken`` when an invoice that was open
when it was made is still open (reminders then restart by themselves: the pause has ended), else
``kept``. Billing staff may hold an account's reminders until a day of their choosing and resume
them; staff membership is checked by the caller (the Slack edge), never here.
Everything is audited in the transaction that changes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from billing_core.access import require_account
from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PromiseToPayRecord, ReminderHoldRecord
from billing_core.errors import AccountNotFound, InvalidHoldDate, InvalidPromiseDate
from billing_core.views import Actor

PROMISE_MAX_DAYS = 60
HOLD_MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class PromiseView:
    account_external_id: str
    account_name: str
    promised_on: date
    until: datetime
    status: str
    made_by_email: str


@dataclass(frozen=True, slots=True)
class HoldView:
    account_external_id: str
    until: datetime
    held_by: str


@dataclass(frozen=True, slots=True)
class Settled:
    kept: int = 0
    broken: int = 0


def end_of_day(day: date, timezone: ZoneInfo) -> datetime:
    """The first moment after ``day`` in ``timezone``: a pause "until the 20th" lasts through the 20th."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone)


def not_account_paused(now: datetime) -> tuple[Any, Any]:
    """SQL for the plan: the invoice's account has no open promise and no staff hold running at
    ``now``. Two ``NOT EXISTS`` (not one ``NOT (… OR …)``), so PostgreSQL plans each as an anti-join."""
    promise, hold = PromiseToPayRecord, ReminderHoldRecord
    promised = exists().where(
        promise.account_id == InvoiceRecord.account_id, promise.status == "open", promise.until > now
    )
    held = exists().where(hold.account_id == InvoiceRecord.account_id, hold.until > now)
    return ~promised, ~held


class Promises:
    """Promises to pay and staff holds (see the module docstring)."""

    def __init__(self, *, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._timezone = timezone

    def today(self) -> date:
        return self._clock.now().astimezone(self._timezone).date()

    def check_date(self, promised_on: date) -> None:
        """``InvalidPromiseDate`` unless ``promised_on`` is after today and within ``PROMISE_MAX_DAYS``."""
        today = self.today()
        if not today < promised_on <= today + timedelta(days=PROMISE_MAX_DAYS):
            raise InvalidPromiseDate(promised_on.isoformat())

    def promise(self, actor: Actor, account_external_id: str, promised_on: date) -> PromiseView:
        """The actor (a billing contact of the account) promises to pay on ``promised_on``."""
        self.check_date(promised_on)
        now = self._clock.now()
        until = end_of_day(promised_on, self._timezone)
        with self._db.transaction() as session:
            account = require_account(session, actor, account_external_id)
            replaced = getattr(
                session.execute(
                    update(PromiseToPayRecord)
                    .where(PromiseToPayRecord.account_id == account.id, PromiseToPayRecord.status == "open")
                    .values(status="replaced", settled_at=now)
                ),
                "rowcount",
                0,
            )
            session.add(
                PromiseToPayRecord(
                    account_id=account.id,
                    promised_on=promised_on,
                    until=until,
                    made_by_email=actor.email,
                    made_by_principal=actor.principal,
                    created_at=now,
                    status="open",
                )
            )
            add_audit_event(
                session,
                at=now,
                actor=actor,
                action="reminders.promise_to_pay",
                outcome="ok",
                account_id=account.id,
                target=promised_on.isoformat(),
                detail={"until": until.isoformat(), "replaced": replaced},
            )
            return PromiseView(account.external_id, account.name, promised_on, until, "open", actor.email)

    def settle(self, now: datetime | None = None) -> Settled:
        """Settle every open promise whose day has passed: ``broken`` or ``kept`` (see the module docstring)."""
        moment = now or self._clock.now()
        promise = PromiseToPayRecord
        still_open = exists().where(
            InvoiceRecord.account_id == promise.account_id,
            InvoiceRecord.status == "open",
            InvoiceRecord.created_at <= promise.created_at,
        )
        kept = broken = 0
        with self._db.transaction() as session:
            due = session.execute(
                select(promise.id, promise.account_id, promise.promised_on, still_open)
                .where(promise.status == "open", promise.until <= moment)
                .with_for_update(skip_locked=True, of=promise)
            ).all()
            for promise_id, account_id, promised_on, is_broken in due:
                status = "broken" if is_broken else "kept"
                session.execute(
                    update(promise)
                    .where(promise.id == promise_id, promise.status == "open")
                    .values(status=status, settled_at=moment)
                )
                add_audit_event(
                    session,
                    at=moment,
                    actor=None,
                    action=f"reminders.promise_{status}",
                    outcome="ok",
                    account_id=account_id,
                    target=promised_on.isoformat(),
                )
                broken += is_broken
                kept += not is_broken
        return Settled(kept, broken)

    def latest(self, session: Session, account_ids: list[int]) -> dict[int, PromiseView]:
        """The newest promise of each account (any status but ``replaced``), for the staff view."""
        if not account_ids:
            return {}
        promise = PromiseToPayRecord
        rows = session.execute(
            select(promise, AccountRecord.external_id, AccountRecord.name)
            .join(AccountRecord, AccountRecord.id == promise.account_id)
            .where(promise.account_id.in_(account_ids), promise.status != "replaced")
            .order_by(promise.account_id, promise.created_at)
        ).all()
        latest: dict[int, PromiseView] = {}
        for record, external_id, name in rows:
            latest[record.account_id] = PromiseView(
                external_id, name, record.promised_on, record.until, record.status, record.made_by_email
            )
        return latest

    # -- staff holds (the caller checked that ``staff`` is billing staff) --------------------------

    def hold(self, staff: Actor, account_external_id: str, until_day: date) -> HoldView:
        """Pause every reminder of the account through ``until_day``; replaces a running hold."""
        today = self.today()
        if not today < until_day <= today + timedelta(days=HOLD_MAX_DAYS):
            raise InvalidHoldDate(until_day.isoformat())
        now = self._clock.now()
        until = end_of_day(until_day, self._timezone)
        with self._db.transaction() as session:
            account = _account(session, account_external_id)
            existing = session.get(ReminderHoldRecord, account.id)
            if existing is None:
                session.add(
                    ReminderHoldRecord(account_id=account.id, until=until, held_by=staff.principal, created_at=now)
                )
            else:
                existing.until, existing.held_by, existing.created_at = until, staff.principal, now
            add_audit_event(
                session,
                at=now,
                actor=staff,
                action="reminders.staff_hold",
                outcome="ok",
                account_id=account.id,
                target=until_day.isoformat(),
                detail={"until": until.isoformat()},
            )
            return HoldView(account.external_id, until, staff.principal)

    def resume(self, staff: Actor, account_external_id: str) -> bool:
        """Lift the staff hold; whether there was one. A payer's open promise keeps its pause
        until its day (it is the payer's word; staff see it in the view)."""
        now = self._clock.now()
        with self._db.transaction() as session:
            account = _account(session, account_external_id)
            hold = session.get(ReminderHoldRecord, account.id)
            if hold is not None:
                session.delete(hold)
            add_audit_event(
                session,
                at=now,
                actor=staff,
                action="reminders.staff_resume",
                outcome="ok" if hold is not None else "unchanged",
                account_id=account.id,
            )
            return hold is not None

    def holds(self, session: Session, account_ids: list[int]) -> dict[int, datetime]:
        """The running staff hold of each account (its end), for the staff view."""
        if not account_ids:
            return {}
        now = self._clock.now()
        rows = session.execute(
            select(ReminderHoldRecord.account_id, ReminderHoldRecord.until).where(
                ReminderHoldRecord.account_id.in_(account_ids), ReminderHoldRecord.until > now
            )
        )
        return {account_id: until for account_id, until in rows}


def _account(session: Session, external_id: str) -> AccountRecord:
    account = session.scalar(select(AccountRecord).where(AccountRecord.external_id == external_id))
    if account is None:
        raise AccountNotFound(external_id)
    return account
