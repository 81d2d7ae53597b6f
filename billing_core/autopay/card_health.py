"""Card health: tell an account's contacts before its default card expires (30, then 7 days ahead).

Run by the reminder sweep. Each contact hears once per card and threshold: a row is claimed
before the DM and given back if it could not be sent. Quiet hours are the reminders' (09:00-17:00
on weekdays in the contact's own time zone); outside them the notice waits for a later sweep.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing_core.autopay.notices import AutopayNotice, ContactMessenger
from billing_core.autopay.switch import card_label
from billing_core.business_hours import within_business_hours, zone_or_utc
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, CardExpiryNoticeRecord, ContactRecord, PaymentMethodRecord
from billing_core.errors import ChatDeliveryFailed, ChatRateLimited

THRESHOLDS = (30, 7)  # days before the card's last valid day


@dataclass
class CardHealthResult:
    sent: int = 0
    postponed: int = 0
    failed: int = 0


def last_valid_day(exp_month: int, exp_year: int) -> date:
    """A card is valid through the last day of its expiry month."""
    return date(exp_year, exp_month, calendar.monthrange(exp_year, exp_month)[1])


def threshold_for(days_left: int) -> int | None:
    """The smallest threshold the card is within (7 before 30); None when not yet, or expired."""
    if days_left < 0:
        return None
    within = [days for days in THRESHOLDS if days_left <= days]
    return min(within) if within else None


class CardHealth:
    """DMs about default cards that expire soon."""

    def __init__(
        self,
        *,
        db: Database,
        messenger: ContactMessenger | None,
        refresh_account: Callable[[int], None] | None = None,
    ) -> None:
        self._db = db
        self._messenger = messenger
        # Re-reads an account's cards from Stripe (account id), with a Stripe key.
        self._refresh_account = refresh_account

    def run(self, now: datetime, today: date) -> CardHealthResult:
        """One pass at ``now`` (``today`` in ``BILLING_TIMEZONE``). Cards about to be told are
        first re-read from Stripe: the network may have renewed them (no DM then)."""
        result = CardHealthResult()
        if self._messenger is None:
            return result
        due = self._due(today)
        if due and self._refresh_account is not None:
            for account_id in sorted({account_id for *_, account_id in due}):
                self._refresh_account(account_id)
            due = self._due(today)
        for notice, contact_id, email, card_id, threshold, _ in due:
            self._send(notice, contact_id, email, card_id, threshold, now, result)
        return result

    def _due(self, today: date) -> list[tuple[AutopayNotice, int, str, str, int, int]]:
        last_month = today.year * 12 + today.month - 1 + 2  # cards expiring this month or the next two
        query = (
            select(
                PaymentMethodRecord,
                AccountRecord.external_id,
                AccountRecord.name,
                ContactRecord.id,
                ContactRecord.email,
            )
            .join(AccountRecord, AccountRecord.id == PaymentMethodRecord.account_id)
            .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
            .where(
                PaymentMethodRecord.is_default.is_(True),
                PaymentMethodRecord.exp_year * 12 + PaymentMethodRecord.exp_month - 1 <= last_month,
            )
            .order_by(ContactRecord.email, AccountRecord.external_id)
        )
        due = []
        with self._db.read() as session:
            for card, external_id, name, contact_id, email in session.execute(query).all():
                days_left = (last_valid_day(card.exp_month, card.exp_year) - today).days
                threshold = threshold_for(days_left)
                if threshold is None or self._claimed(session, contact_id, card.stripe_payment_method_id, threshold):
                    continue
                notice = AutopayNotice(
                    kind="card_expiring",
                    account_external_id=external_id,
                    account_name=name,
                    card_label=card_label(card),
                    card_expires=f"{card.exp_month:02d}/{card.exp_year % 100:02d}",
                    days_left=days_left,
                )
                due.append((notice, contact_id, email, card.stripe_payment_method_id, threshold, card.account_id))
        return due

    @staticmethod
    def _claimed(session: Session, contact_id: int, card_id: str, threshold: int) -> bool:
        """True when this contact was told about this card at this threshold or a nearer one."""
        found = session.scalar(
            select(CardExpiryNoticeRecord.id).where(
                CardExpiryNoticeRecord.contact_id == contact_id,
                CardExpiryNoticeRecord.stripe_payment_method_id == card_id,
                CardExpiryNoticeRecord.threshold <= threshold,
            )
        )
        return found is not None

    def _send(
        self,
        notice: AutopayNotice,
        contact_id: int,
        email: str,
        card_id: str,
        threshold: int,
        now: datetime,
        result: CardHealthResult,
    ) -> None:
        assert self._messenger is not None
        try:
            contact = self._messenger.find_contact(email)
            if contact is None or contact.needs_proof:
                return
            if not within_business_hours(now, zone_or_utc(contact.timezone)):
                result.postponed += 1
                return
        except (ChatDeliveryFailed, ChatRateLimited):
            result.failed += 1
            return
        try:
            with self._db.transaction() as session:
                session.add(
                    CardExpiryNoticeRecord(
                        contact_id=contact_id, stripe_payment_method_id=card_id, threshold=threshold, sent_at=now
                    )
                )
        except IntegrityError:
            return  # another sweep has it
        try:
            self._messenger.tell(contact, notice)
        except (ChatDeliveryFailed, ChatRateLimited):
            with self._db.transaction() as session:
                session.execute(
                    delete(CardExpiryNoticeRecord).where(
                        CardExpiryNoticeRecord.contact_id == contact_id,
                        CardExpiryNoticeRecord.stripe_payment_method_id == card_id,
                        CardExpiryNoticeRecord.threshold == threshold,
                    )
                )
            result.failed += 1
            return
        result.sent += 1
