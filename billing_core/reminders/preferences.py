"""Consent and notification preferences: who asked for no more reminders, and who is not the contact.

The first reminder DM to a contact introduces the bot and offers two ways out:

- "Stop reminders": no more reminders to that person for that account, until they turn them back
  on from the App Home.
- "Not me": the address is not theirs. No more DMs to that person for that account, and billing
  staff are told so they can correct the contact list.

Both are per contact (one e-mail on one account) and written to the audit trail. Payment receipts
and security messages still go out: they answer something the person did, or protect the account.

Who may click: the buttons sit in a DM the bot sent. The DM's channel and timestamp come with
Slack's signed request, and the sent reminder rows name the contacts it went to, so the person in
that DM is the one the reminder reached, whether or not they have proven the address yet. The
button's own value is never trusted for that. From the Home, only a verified contact changes their
own accounts' settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billing_core.access import require_account
from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactPreferenceRecord, ContactRecord, ReminderDeliveryRecord
from billing_core.errors import ReminderNotFound
from billing_core.identity.emails import normalize_email
from billing_core.views import Actor

# Tells billing staff about a contact address (``EscalationService.raise_security_alert`` fits).
StaffAlert = Callable[[str, str], Any]

Preference = ContactPreferenceRecord


@dataclass(frozen=True, slots=True)
class ContactPreference:
    """One account's notification settings for the person (as the Home shows them)."""

    account_external_id: str
    account_name: str
    reminders_on: bool
    not_me: bool


@dataclass(frozen=True, slots=True)
class DmChoice:
    """What a click in a reminder DM changed: the accounts concerned, and staff's reference if told."""

    account_names: tuple[str, ...]
    reference: str | None = None


class ContactPreferences:
    """Reads and changes contacts' notification choices (see the module docstring)."""

    def __init__(self, *, db: Database, clock: Clock, alert_staff: StaffAlert | None = None) -> None:
        self._db = db
        self._clock = clock
        self._alert_staff = alert_staff

    def stop_from_dm(self, principal: str, channel: str, ts: str) -> DmChoice:
        """ "Stop reminders" clicked in the reminder DM at ``channel``/``ts``: no more reminders to
        its recipient for the DM's accounts. ``ReminderNotFound`` when no sent reminder is there."""
        _email, names = self._choose_in_dm(principal, channel, ts, "reminders_stopped_at", "reminders.stopped")
        return DmChoice(names)

    def not_me_from_dm(self, principal: str, described: str, channel: str, ts: str) -> DmChoice:
        """ "Not me" clicked in the reminder DM at ``channel``/``ts``: no more DMs to its recipient for
        the DM's accounts, and billing staff told (``described``: who clicked, for them)."""
        email, names = self._choose_in_dm(principal, channel, ts, "not_me_at", "reminders.not_me")
        reference = None
        if self._alert_staff is not None:
            view = self._alert_staff(
                email,
                f"{described} received a billing reminder for {email} and says they are not the billing contact "
                f"of {', '.join(names)}. Reminders to {email} for these accounts are stopped. Please check the "
                "contact list (the next import can correct it).",
            )
            reference = getattr(view, "reference", None)
        return DmChoice(names, reference)

    def _choose_in_dm(
        self, principal: str, channel: str, ts: str, field: str, action: str
    ) -> tuple[str, tuple[str, ...]]:
        """Set ``field`` (a moment) for every contact the DM at ``channel``/``ts`` went to, audited
        as ``action``; the contacts' e-mail and account names."""
        now = self._clock.now()
        with self._db.transaction() as session:
            contacts = _contacts_in_dm(session, channel, ts)
            for contact in contacts:
                row = _preference(session, contact.id, now)
                setattr(row, field, getattr(row, field) or now)
                row.changed_by, row.updated_at = principal, now
                _audit(session, now, contact, principal, action, {"from": "dm"})
            return contacts[0].email, _names(session, contacts)

    def set_reminders(self, actor: Actor, account_external_id: str, *, on: bool) -> ContactPreference:
        """From the Home: the verified contact turns their reminders for one of their accounts on
        (also undoing "Not me") or off. ``AccountNotFound`` for an account not theirs."""
        now = self._clock.now()
        with self._db.transaction() as session:
            account = require_account(session, actor, account_external_id)
            contact = session.scalars(
                select(ContactRecord).where(
                    ContactRecord.account_id == account.id, ContactRecord.email == normalize_email(actor.email)
                )
            ).one()
            row = _preference(session, contact.id, now)
            if on:
                row.reminders_stopped_at, row.not_me_at = None, None
            else:
                row.reminders_stopped_at = row.reminders_stopped_at or now
            row.changed_by, row.updated_at = actor.principal, now
            add_audit_event(
                session,
                at=now,
                actor=actor,
                action="reminders.resumed" if on else "reminders.stopped",
                outcome="ok",
                account_id=account.id,
                target=account.external_id,
                detail={"from": "home"},
            )
            return ContactPreference(account.external_id, account.name, on, False)

    def for_person(self, email: str) -> list[ContactPreference]:
        """Every account ``email`` is a contact of, with its settings (by account name)."""
        with self._db.read() as session:
            rows = session.execute(
                select(
                    AccountRecord.external_id, AccountRecord.name, Preference.reminders_stopped_at, Preference.not_me_at
                )
                .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
                .outerjoin(Preference, Preference.contact_id == ContactRecord.id)
                .where(ContactRecord.email == normalize_email(email))
                .order_by(AccountRecord.name, AccountRecord.external_id)
            ).all()
        return [
            ContactPreference(external_id, name, stopped is None and not_me is None, not_me is not None)
            for external_id, name, stopped, not_me in rows
        ]


def mark_introduced(session: Session, contact_ids: Iterable[int], at: datetime) -> None:
    """The bot introduced itself to these contacts (their first reminder DM went out)."""
    for contact_id in set(contact_ids):
        row = _preference(session, contact_id, at)
        if row.introduced_at is None:
            row.introduced_at = at


def _preference(session: Session, contact_id: int, now: datetime) -> Preference:
    """The contact's row, created first if missing (concurrent creators meet on the primary key)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(Preference)
        .values(contact_id=contact_id, updated_at=now)
        .on_conflict_do_nothing(index_elements=["contact_id"])
    )
    row = session.get(Preference, contact_id, populate_existing=True, with_for_update=True)
    assert row is not None
    return row


def _contacts_in_dm(session: Session, channel: str, ts: str) -> list[ContactRecord]:
    contact_ids = session.scalars(
        select(ReminderDeliveryRecord.contact_id)
        .where(
            ReminderDeliveryRecord.channel == channel,
            ReminderDeliveryRecord.message_ts == ts,
            ReminderDeliveryRecord.status == "sent",
        )
        .distinct()
    ).all()
    if not contact_ids:
        raise ReminderNotFound(ts)
    return list(
        session.scalars(select(ContactRecord).where(ContactRecord.id.in_(contact_ids)).order_by(ContactRecord.id))
    )


def _names(session: Session, contacts: list[ContactRecord]) -> tuple[str, ...]:
    ids = {contact.account_id for contact in contacts}
    return tuple(
        session.scalars(select(AccountRecord.name).where(AccountRecord.id.in_(ids)).order_by(AccountRecord.name))
    )


def _audit(
    session: Session, now: datetime, contact: ContactRecord, principal: str, action: str, detail: dict[str, Any]
) -> None:
    # The clicker has not necessarily proven the address: the actor is the DM's recipient as such.
    actor = Actor(email=contact.email, principal=principal)
    add_audit_event(
        session,
        at=now,
        actor=actor,
        action=action,
        outcome="ok",
        account_id=contact.account_id,
        target=contact.email,
        detail=detail,
    )
