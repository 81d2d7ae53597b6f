"""A reminder DM already sent, read back from its delivery rows so it can be rewritten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, select

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord, InvoiceRecord, ReminderDeliveryRecord
from billing_core.identity.emails import normalize_email
from billing_core.messaging import PostedMessage
from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine, ReminderMessage

Delivery = ReminderDeliveryRecord


@dataclass(frozen=True, slots=True)
class SentReminder:
    """One sent DM as it reads now (paid lines marked), and its delivery rows."""

    message: ReminderMessage
    delivery_ids: tuple[int, ...]
    paid_ids: tuple[int, ...]


def sent_messages(
    db: Database, since: datetime, *where: ColumnElement[bool], join: Any = None, limit: int | None = None
) -> list[tuple[PostedMessage, datetime]]:
    """Each DM sent since ``since`` whose delivery rows match ``where`` (joined to ``join``), once,
    with the claim time that finds its rows again (``load_sent``)."""
    query = select(Delivery.channel, Delivery.message_ts, Delivery.claimed_at, Delivery.workspace)
    if join is not None:
        query = query.join(*join)
    query = query.where(
        Delivery.status == "sent", Delivery.claimed_at >= since, Delivery.message_ts.is_not(None), *where
    ).distinct()
    if limit is not None:
        query = query.limit(limit)
    with db.read() as session:
        rows = session.execute(query).all()
    return [
        (PostedMessage(str(channel), str(ts), workspace or ""), claimed_at)
        for channel, ts, claimed_at, workspace in rows
    ]


def load_sent(
    db: Database, posted: PostedMessage, claimed_at: datetime, today: date | None = None
) -> SentReminder | None:
    """The DM at ``posted`` from the sweep that claimed at ``claimed_at``; ``None`` if none. Its
    invoices state their days as of ``today`` (the rewrite's day in the billing time zone)."""
    with db.read() as session:
        rows = session.execute(
            select(Delivery, InvoiceRecord, AccountRecord, ContactRecord.name)
            .join(InvoiceRecord, InvoiceRecord.id == Delivery.invoice_id)
            .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
            .join(ContactRecord, ContactRecord.id == Delivery.contact_id)
            .where(
                Delivery.status == "sent",
                Delivery.claimed_at == claimed_at,  # one sweep's claims: keeps to the index
                Delivery.channel == posted.channel,
                Delivery.message_ts == posted.ts,
            )
            .order_by(AccountRecord.external_id, InvoiceRecord.number)
        ).all()
        if not rows:
            return None
        lines = tuple(
            ReminderLine(
                account_external_id=account.external_id,
                account_name=account.name,
                invoice_number=invoice.number,
                amount=Money(invoice.amount_due_minor, invoice.currency),
                due_on=invoice.due_on,
                paid=invoice.status == "paid",
                document_url=invoice.document_url,
            )
            for _, invoice, account, _ in rows
        )
        withheld = any(delivery.withheld for delivery, _, _, _ in rows)
        message = ReminderMessage(
            step=rows[0][0].step, recipient_name=rows[0][3], lines=lines, withheld=withheld, today=today
        )
        return SentReminder(
            message=message,
            delivery_ids=tuple(delivery.id for delivery, _, _, _ in rows),
            paid_ids=tuple(delivery.id for delivery, invoice, _, _ in rows if invoice.status == "paid"),
        )


def invoices_in_dm(db: Database, email: str, channel: str, ts: str) -> list[tuple[str, str]]:
    """``(account external id, invoice number)`` of the reminder DM at ``channel``/``ts``, only those
    of accounts ``email`` is a contact of (a reply in a reminder's thread is about these)."""
    with db.read() as session:
        rows = session.execute(
            select(AccountRecord.external_id, InvoiceRecord.number)
            .select_from(Delivery)
            .join(InvoiceRecord, InvoiceRecord.id == Delivery.invoice_id)
            .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
            .join(ContactRecord, ContactRecord.id == Delivery.contact_id)
            .where(
                Delivery.status == "sent",
                Delivery.channel == channel,
                Delivery.message_ts == ts,
                ContactRecord.email == normalize_email(email),
            )
            .order_by(AccountRecord.external_id, InvoiceRecord.number)
            .distinct()
        ).all()
    return [(str(account), str(number)) for account, number in rows]
