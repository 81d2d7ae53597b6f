"""Billing staff's "Send a reminder now": one DM to each billing contact of an account, at once.

Once per account and day (billing time zone): a double click, a retry or a second staff member
on the same day sends nothing more (``OnceMarks``, shared by every process). Contacts who said
"Stop reminders" or "Not me" get nothing; someone who has not proven the contact's address gets
only "a reminder is waiting", as from the sweep. Working hours are not waited for: a person chose
to send it. It is not a step of the schedule, so the sweep's own reminders still go out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, or_, select

from billing_core.audit import add_audit_event
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactPreferenceRecord, ContactRecord, InvoiceRecord
from billing_core.errors import AccountNotFound, ChatDeliveryFailed, ChatRateLimited
from billing_core.marks import OnceMarks
from billing_core.messaging import ChatContact
from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine, ReminderMessage, ReminderSender
from billing_core.reminders.plan import MAX_INVOICES_PER_DM
from billing_core.views import Actor

RATE_LIMIT_WAIT = 5.0  # seconds: a DM held back longer than this counts as failed


def _tell(sender: ReminderSender, contact: ChatContact, message: ReminderMessage) -> None:
    """One DM; a rate limit of at most ``RATE_LIMIT_WAIT`` seconds is waited out once."""
    try:
        sender.tell(contact, message)
    except ChatRateLimited as limited:
        if limited.retry_after > RATE_LIMIT_WAIT:
            raise
        time.sleep(max(0.0, limited.retry_after))
        sender.tell(contact, message)


@dataclass(frozen=True, slots=True)
class SentNow:
    sent: int = 0
    not_found: int = 0
    failed: int = 0
    already_today: bool = False
    nothing_open: bool = False


def send_now(
    db: Database,
    marks: OnceMarks,
    sender: ReminderSender | None,
    staff: Actor,
    account_external_id: str,
    *,
    now: datetime,
    today: date,
) -> SentNow:
    with db.read() as session:
        account = session.scalar(select(AccountRecord).where(AccountRecord.external_id == account_external_id))
        if account is None:
            raise AccountNotFound(account_external_id)
        account_id, account_name = account.id, account.name
        invoices = session.execute(
            select(
                InvoiceRecord.number,
                InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor,
                InvoiceRecord.currency,
                InvoiceRecord.due_on,
                InvoiceRecord.document_url,
            )
            .where(InvoiceRecord.account_id == account_id, InvoiceRecord.status == "open")
            .order_by(InvoiceRecord.due_on, InvoiceRecord.number)
            .limit(MAX_INVOICES_PER_DM)
        ).all()
        preference = ContactPreferenceRecord
        opted_out = exists().where(
            preference.contact_id == ContactRecord.id,
            or_(preference.reminders_stopped_at.is_not(None), preference.not_me_at.is_not(None)),
        )
        contacts = session.execute(
            select(ContactRecord.email, ContactRecord.name).where(ContactRecord.account_id == account_id, ~opted_out)
        ).all()
    if not invoices:
        return SentNow(nothing_open=True)
    if sender is None or not marks.claim("staff.reminder_now", f"{account_external_id}:{today.isoformat()}"):
        return SentNow(already_today=sender is not None)
    lines = tuple(
        ReminderLine(account_external_id, account_name, number, Money(amount, currency), due_on, document_url=url)
        for number, amount, currency, due_on, url in invoices
    )
    sent = not_found = failed = 0
    for email, name in contacts:
        contact = sender.find_contact(email)
        if contact is None:
            not_found += 1
            continue
        message = ReminderMessage(
            max(0, (today - lines[0].due_on).days), name, lines, withheld=contact.needs_proof, today=today
        )
        try:
            _tell(sender, contact, message)
            sent += 1
        except (ChatRateLimited, ChatDeliveryFailed):
            failed += 1
    with db.transaction() as session:
        add_audit_event(
            session,
            at=now,
            actor=staff,
            action="staff.reminder_now",
            outcome="sent" if sent else "not_sent",
            account_id=account_id,
            detail={"sent": sent, "not_in_workspace": not_found, "failed": failed},
        )
    return SentNow(sent, not_found, failed)
