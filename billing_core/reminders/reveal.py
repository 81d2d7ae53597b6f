"""Reminders sent withheld ("a reminder is waiting") get their details once the address is proven."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import update

from billing_core.db.database import Database
from billing_core.db.tables import ContactRecord, ReminderDeliveryRecord
from billing_core.errors import ChatDeliveryFailed, ChatRateLimited
from billing_core.identity.emails import normalize_email
from billing_core.reminders.messages import ReminderSender
from billing_core.reminders.sent import load_sent, sent_messages
from billing_core.reminders.thanks import THANK_WINDOW

Delivery = ReminderDeliveryRecord


def reveal_withheld(db: Database, sender: ReminderSender, email: str, now: datetime, today: date | None = None) -> int:
    """Rewrite each withheld DM to ``email``'s contacts with its details; returns how many DMs.

    A DM that cannot be rewritten now (rate limit, Slack error) stays withheld: the person still
    sees every invoice with ``/billing``, and the next proof or sweep does not depend on it.
    """
    messages = sent_messages(
        db,
        now - THANK_WINDOW,
        ContactRecord.email == normalize_email(email),
        Delivery.withheld.is_(True),
        join=(ContactRecord, ContactRecord.id == Delivery.contact_id),
    )
    revealed = 0
    for posted, claimed_at in messages:
        sent = load_sent(db, posted, claimed_at, today)
        if sent is None:
            continue
        try:
            sender.update(posted, replace(sent.message, withheld=False))
        except (ChatRateLimited, ChatDeliveryFailed):
            continue
        with db.transaction() as session:
            session.execute(update(Delivery).where(Delivery.id.in_(sent.delivery_ids)).values(withheld=False))
        revealed += 1
    return revealed
