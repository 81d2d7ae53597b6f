"""Pausing reminders for one person and invoice: "Remind me later" and "I've already paid"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billing_core.access import require_invoice
from billing_core.audit import add_audit_event
from billing_core.db.tables import ContactRecord, ReminderPauseRecord
from billing_core.errors import InvoiceNotFound
from billing_core.identity.emails import normalize_email
from billing_core.views import Actor

SNOOZE = timedelta(days=3)
ALREADY_PAID = timedelta(days=7)
MAX_INVOICES = 50


def pause(
    session: Session,
    actor: Actor,
    invoices: Sequence[tuple[str, str]],
    *,
    now: datetime,
    length: timedelta,
    reason: str,
) -> datetime:
    """Pause the actor's reminders for each (account id, invoice number) they are a contact of.

    Every pair is checked with the membership guard first; one foreign or unknown invoice
    refuses the whole request (``InvoiceNotFound``) and nothing is paused.
    """
    if not invoices or len(invoices) > MAX_INVOICES:
        raise InvoiceNotFound("no invoice given")
    until = now + length
    email = normalize_email(actor.email)
    targets: list[tuple[int, int, int, str]] = []
    for account_external_id, number in invoices:
        account, invoice = require_invoice(session, actor, account_external_id, number)
        contact_id = session.scalar(
            select(ContactRecord.id).where(ContactRecord.account_id == account.id, ContactRecord.email == email)
        )
        if contact_id is None:  # require_invoice already proved membership; belt and braces
            raise InvoiceNotFound(number)
        targets.append((invoice.id, contact_id, account.id, number))
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for invoice_id, contact_id, account_id, number in targets:
        statement = insert(ReminderPauseRecord).values(
            invoice_id=invoice_id, contact_id=contact_id, until=until, reason=reason
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["invoice_id", "contact_id"], set_={"until": until, "reason": reason}
            )
        )
        add_audit_event(
            session,
            at=now,
            actor=actor,
            action=f"reminders.{reason}",
            outcome="ok",
            account_id=account_id,
            target=number,
            detail={"until": until.isoformat()},
        )
    return until
