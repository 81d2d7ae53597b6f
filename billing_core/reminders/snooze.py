"""The invoices one "Remind me later" covers: the unpaid ones of the DM it was clicked in.

The button names one invoice of the DM (a short reference: the DM's whole list could pass the
chat platform's limit on a button's value). The DM itself, where it was posted, comes with the
click; its delivery rows name its other invoices. Membership is checked later, invoice by invoice,
by ``pause``.
"""

from __future__ import annotations

from sqlalchemy import select

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, ReminderDeliveryRecord
from billing_core.messaging import PostedMessage
from billing_core.reminders.sent import load_sent

Delivery = ReminderDeliveryRecord


def dm_invoices(
    db: Database, posted: PostedMessage | None, account_external_id: str, invoice_number: str
) -> list[tuple[str, str]]:
    """Each unpaid (account id, invoice number) of the DM at ``posted`` that names the given
    invoice; just that invoice when no sent DM at ``posted`` names it."""
    named = [(account_external_id, invoice_number)]
    if posted is None:
        return named
    with db.read() as session:
        claimed_at = session.scalar(
            select(Delivery.claimed_at)
            .join(InvoiceRecord, InvoiceRecord.id == Delivery.invoice_id)
            .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
            .where(
                Delivery.status == "sent",
                Delivery.channel == posted.channel,
                Delivery.message_ts == posted.ts,
                AccountRecord.external_id == account_external_id,
                InvoiceRecord.number == invoice_number,
            )
            .limit(1)
        )
    sent = load_sent(db, posted, claimed_at) if claimed_at is not None else None
    if sent is None:
        return named
    return [(line.account_external_id, line.invoice_number) for line in sent.message.lines if not line.paid] or named
