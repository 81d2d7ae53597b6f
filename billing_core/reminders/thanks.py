"""'Paid, thank you': rewrite sent reminders whose invoices have been paid since.

A grouped DM is rewritten as a whole: paid invoices say so, the others keep their buttons.
Only reminders sent within ``THANK_WINDOW`` are looked at, so the query stays on the
(status, claimed_at) index however many reminders have been sent over the years.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord, InvoiceRecord, ReminderDeliveryRecord
from billing_core.errors import ChatDeliveryFailed, ChatRateLimited
from billing_core.money import Money
from billing_core.reminders.messages import PostedMessage, ReminderLine, ReminderMessage, ReminderSender
from billing_core.reminders.plan import PlanWindow

THANK_WINDOW = timedelta(days=120)
MESSAGES_PER_SWEEP = 500
Delivery = ReminderDeliveryRecord


def thank_paid(db: Database, sender: ReminderSender, window: PlanWindow) -> int:
    """Update each sent DM that mentions a newly paid invoice; returns how many reminders were thanked."""
    since = window.now - THANK_WINDOW
    with db.read() as session:
        messages = session.execute(
            select(Delivery.channel, Delivery.message_ts, Delivery.claimed_at)
            .join(InvoiceRecord, InvoiceRecord.id == Delivery.invoice_id)
            .where(
                Delivery.status == "sent",
                Delivery.claimed_at >= since,
                Delivery.thanked_at.is_(None),
                Delivery.message_ts.is_not(None),
                InvoiceRecord.status == "paid",
            )
            .distinct()
            .limit(MESSAGES_PER_SWEEP)
        ).all()
    thanked = 0
    for channel, ts, claimed_at in messages:
        assert channel is not None and ts is not None
        thanked += _thank_one(db, sender, window, PostedMessage(channel, ts), claimed_at)
    return thanked


def _thank_one(
    db: Database, sender: ReminderSender, window: PlanWindow, posted: PostedMessage, claimed_at: object
) -> int:
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
            return 0
        lines = tuple(
            ReminderLine(
                account_external_id=account.external_id,
                account_name=account.name,
                invoice_number=invoice.number,
                amount=Money(invoice.amount_due_minor, invoice.currency),
                due_on=invoice.due_on,
                paid=invoice.status == "paid",
            )
            for _, invoice, account, _ in rows
        )
        message = ReminderMessage(step=rows[0][0].step, recipient_name=rows[0][3], lines=lines)
        paid_ids = [delivery.id for delivery, invoice, _, _ in rows if invoice.status == "paid"]
    try:
        sender.update_reminder(posted, message)
    except (ChatRateLimited, ChatDeliveryFailed):
        return 0  # the next sweep tries again
    with db.transaction() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.id.in_(paid_ids), Delivery.thanked_at.is_(None))
            .values(thanked_at=window.now)
            .returning(Delivery.id)
        )
        return len(result.all())
