"""The account's cards as Stripe has them, copied into ``billing_payment_method``.

Stripe is the source of truth; the copy lets ``start_*`` stay database-only and fast.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, PaymentMethodRecord
from billing_core.payments.intents import Card
from billing_core.payments.ports import PaymentGateway
from billing_core.views import PaymentMethodView


def card_view(record: PaymentMethodRecord) -> PaymentMethodView:
    return PaymentMethodView(
        id=record.stripe_payment_method_id,
        brand=record.brand,
        last4=record.last4,
        exp_month=record.exp_month,
        exp_year=record.exp_year,
        is_default=record.is_default,
    )


def in_screen_order(views: Iterable[PaymentMethodView]) -> list[PaymentMethodView]:
    """Default first, then by brand and last four: the order every card list is shown and compared in."""
    return sorted(views, key=lambda v: (not v.is_default, v.brand, v.last4, v.id))


def cached_cards(session: Session, account_id: int) -> list[PaymentMethodView]:
    """The account's copy, in screen order."""
    records = session.scalars(select(PaymentMethodRecord).where(PaymentMethodRecord.account_id == account_id))
    return in_screen_order(card_view(record) for record in records)


def views_of(cards: list[Card], default: str | None) -> list[PaymentMethodView]:
    """What ``cached_cards`` would read back after ``store_cards(cards, default)``, in its order."""
    return in_screen_order(
        PaymentMethodView(card.id, card.brand, card.last4, card.exp_month, card.exp_year, card.id == default)
        for card in cards
    )


def fetch_cards(gateway: PaymentGateway, customer_id: str) -> tuple[list[Card], str | None]:
    """The customer's cards and default, from Stripe (outside any database transaction)."""
    cards = [card for card in gateway.list_cards(customer_id) if card.customer_id in (None, customer_id)]
    default = gateway.default_payment_method(customer_id)
    # localstripe keeps pointing at a detached default; a default that is not a card on file is none.
    return cards, default if any(card.id == default for card in cards) else None


def store_cards(session: Session, account_id: int, cards: list[Card], default: str | None, clock: Clock) -> None:
    """Replace the account's cached cards with what Stripe just said."""
    now = clock.now()
    # Concurrent refreshes of one account (a repeated click, a click and a webhook) take turns: on
    # PostgreSQL the second's delete would miss the first's new rows and collide on insert.
    session.execute(select(AccountRecord.id).where(AccountRecord.id == account_id).with_for_update())
    session.execute(delete(PaymentMethodRecord).where(PaymentMethodRecord.account_id == account_id))
    session.flush()
    for card in cards:
        session.add(
            PaymentMethodRecord(
                account_id=account_id,
                stripe_payment_method_id=card.id,
                brand=card.brand,
                last4=card.last4,
                exp_month=card.exp_month,
                exp_year=card.exp_year,
                is_default=card.id == default,
                refreshed_at=now,
            )
        )


def refresh_cards(
    db: Database, gateway: PaymentGateway, clock: Clock, account_id: int, customer_id: str
) -> list[PaymentMethodView]:
    cards, default = fetch_cards(gateway, customer_id)
    with db.transaction() as session:
        store_cards(session, account_id, cards, default, clock)
        session.flush()
        return cached_cards(session, account_id)
