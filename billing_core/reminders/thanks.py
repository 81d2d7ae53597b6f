"""'Paid, thank you': rewrite sent reminders whose invoices have been paid since.

A grouped DM is rewritten as a whole: paid invoices say so, the others keep their buttons.
Only reminders sent within ``THANK_WINDOW`` are looked at, so the query stays on the
(status, claimed_at) index however many reminders have been sent over the years.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, ReminderDeliveryRecord
from billing_core.errors import ChatDeliveryFailed, ChatRateLimited
from billing_core.reminders.messages import PostedMessage, ReminderSender
from billing_core.reminders.plan import PlanWindow
from billing_core.reminders.sent import load_sent

THANK_WINDOW = timedelta(days=120)
MESSAGES_PER_SWEEP = 500
Delivery = ReminderDeliveryRecord


def thank_paid(db: Database, sender: ReminderSender, window: PlanWindow) -> int:
    """Update each sent DM that mentions a newly paid invoice; returns how many reminders were thanked."""
    since = window.now - THANK_WINDOW
    with db.read() as session:
        messages = session.execute(
            select(Delivery.channel, Delivery.message_ts, Delivery.claimed_at, Delivery.workspace)
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
    for channel, ts, claimed_at, workspace in messages:
        assert channel is not None and ts is not None
        thanked += _thank_one(db, sender, window, PostedMessage(channel, ts, workspace or ""), claimed_at)
    return thanked


def _thank_one(
    db: Database, sender: ReminderSender, window: PlanWindow, posted: PostedMessage, claimed_at: datetime
) -> int:
    sent = load_sent(db, posted, claimed_at)
    if sent is None:
        return 0
    try:
        sender.update_reminder(posted, sent.message)
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
