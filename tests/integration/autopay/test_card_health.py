"""Contacts hear once at 30 and once at 7 days before their default card expires, in working hours."""

from __future__ import annotations

from sqlalchemy import update

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import PaymentMethodRecord
from tests.integration.autopay.conftest import RecordingMessenger, at
from tests.support.payments import ANN, Setup, Stripe


def expires(db: Database, card: str, month: int, year: int) -> None:
    """The local copy says the card expires then (Stripe may know better)."""
    with db.transaction() as session:
        session.execute(
            update(PaymentMethodRecord)
            .where(PaymentMethodRecord.stripe_payment_method_id == card)
            .values(exp_month=month, exp_year=year)
        )


def expiring_default(pay: Services, stripe_api: Stripe, cards: Setup, month: int, year: int) -> str:
    """Acme's default card, in Stripe, expires at the end of ``month``/``year``."""
    card = stripe_api.card(cards.acme_customer, exp_month=month, exp_year=year)
    pay.require_payments().methods.list(ANN, "acme", refresh=True)
    pay.require_payments().methods.make_default(ANN, "acme", card)
    return card


def sweep(pay: Services) -> None:
    assert pay.reminders.card_health is not None
    window = pay.reminders.window()
    pay.reminders.card_health.run(window.now, window.today)


def test_a_default_card_expiring_is_told_at_30_and_at_7_days_once_each(
    pay: Services, cards: Setup, stripe_api: Stripe, clock: FixedClock, messenger: RecordingMessenger
) -> None:
    expiring_default(pay, stripe_api, cards, 12, 2026)  # valid through 2026-12-31
    told = []
    for day in ["2026-11-30", "2026-12-02", "2026-12-03", "2026-12-24", "2026-12-28"]:
        at(day, clock)
        sweep(pay)
        told.append([(who, n.account_external_id, n.days_left) for who, n in messenger.sent])
        messenger.sent.clear()

    assert told == [[], [("ann@acme.test", "acme", 29)], [], [("ann@acme.test", "acme", 7)], []]


def test_a_card_expiry_notice_waits_for_the_contacts_working_hours(
    pay: Services, cards: Setup, stripe_api: Stripe, clock: FixedClock, messenger: RecordingMessenger
) -> None:
    expiring_default(pay, stripe_api, cards, 12, 2026)
    at("2026-12-05", clock)  # a Saturday
    sweep(pay)
    assert messenger.sent == []

    at("2026-12-07", clock, hour=10)  # Monday morning
    sweep(pay)
    assert [(n.kind, n.card_label) for _, n in messenger.sent] == [("card_expiring", "Visa •••• 4242")]


def test_a_card_the_network_already_renewed_gets_no_expiry_dm(
    pay: Services, cards: Setup, db: Database, clock: FixedClock, messenger: RecordingMessenger
) -> None:
    expires(db, cards.acme_card, 12, 2026)  # an old copy; Stripe has the renewed card (12/2031)
    at("2026-12-02", clock)
    sweep(pay)
    assert messenger.sent == []
