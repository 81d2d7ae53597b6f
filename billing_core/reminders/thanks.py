"""'Paid, thank you': rewrite sent reminders whose invoices have been paid since.

A grouped DM is rewritten as a whole: paid invoices say so, the others keep their buttons.
Only reminders sent within ``THANK_WINDOW`` are looked at, so the query stays on the
(status, claimed_at) index however many reminders have been sent over the years.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, ReminderDeliveryRecord
from billing_core.errors import ChatDeliveryFailed, ChatRateLimited
from billing_core.messaging import PostedMessage
from billing_core.reminders.messages import ReminderSender
from billing_core.reminders.plan import PlanWindow
from billing_core.reminders.sent import load_sent, sent_messages

THANK_WINDOW = timedelta(days=120)
MESSAGES_PER_SWEEP = 500
Delivery = ReminderDeliveryRecord


def thank_paid(db: Database, sender: ReminderSender, window: PlanWindow) -> int:
    """Update each sent DM that mentions a newly paid invoice; returns how many reminders were thanked."""
    messages = sent_messages(
        db,
        window.now - THANK_WINDOW,
        Delivery.thanked_at.is_(None),
        InvoiceRecord.status == "paid",
        join=(InvoiceRecord, InvoiceRecord.id == Delivery.invoice_id),
        limit=MESSAGES_PER_SWEEP,
    )
    return sum(_thank_one(db, sender, window, posted, claimed_at) for posted, claimed_at in messages)


def _thank_one(
    db: Database, sender: ReminderSender, window: PlanWindow, posted: PostedMessage, claimed_at: datetime
) -> int:
    sent = load_sent(db, posted, claimed_at, window.today)
    if sent is None:
        return 0
    try:
        sender.update(posted, sent.message)
    except (ChatRateLimited, ChatDeliveryFailed):
        return 0  # the next sweep tries again
    with db.transaction() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.id.in_(sent.paid_ids), Delivery.thanked_at.is_(None))
            .values(thanked_at=window.now)
            .returning(Delivery.id)
        )
        return len(result.all())
