"""``PaymentService.pay``: start, charge and re-read in one call, against localstripe."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, PaymentRecord
from billing_core.errors import BalanceChanged, ConfigurationError, PaymentMethodNotFound
from billing_core.payments.intents import Intent
from billing_core.payments.service import PaymentService
from bot.settings import Settings
from tests.support.payments import (
    ANN,
    DECLINES_AT_CHARGE,
    RecordingNotifier,
    Setup,
    Stripe,
    add_card,
    services_with,
)


def payments_of(services: Services) -> PaymentService:
    assert services.payments is not None
    return services.require_payments().service


def status_of(db: Database, number: str) -> tuple[str, int | None]:
    with db.read() as session:
        record = session.scalars(select(InvoiceRecord).where(InvoiceRecord.number == number)).one()
        return record.status, record.payment_lock_id


class BreaksAfterCharging(StripeGateway):
    """The real gateway, but something unexpected goes wrong right after Stripe has charged."""

    def charge(self, **kwargs: Any) -> Intent:
        super().charge(**kwargs)
        raise ConfigurationError("broken after the charge")


def test_paying_an_invoice_in_one_call_returns_the_settled_payment(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    done = payments_of(pay).pay(ANN, "acme", cards.acme_card, invoice_number="INV-1")

    assert (done.status, done.amount.amount_minor, done.invoice_numbers) == ("succeeded", 125000, ("INV-1",))
    assert status_of(db, "INV-1") == ("paid", None)
    assert [pi["amount"] for pi in stripe_api.intents()] == [125000]


def test_paying_the_confirmed_balance_in_one_call_charges_exactly_that_sum_once(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    done = payments_of(pay).pay(ANN, "acme", cards.acme_card, expected_amount_minor=125000 + 50050)

    assert (done.status, done.invoice_numbers) == ("succeeded", ("INV-1", "INV-2"))
    assert [pi["amount"] for pi in stripe_api.intents()] == [175050]


def test_a_refusal_to_start_is_raised_and_nothing_is_charged_or_stored(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    with pytest.raises(BalanceChanged):
        payments_of(pay).pay(ANN, "acme", cards.acme_card, expected_amount_minor=100)
    with pytest.raises(PaymentMethodNotFound):
        payments_of(pay).pay(ANN, "acme", cards.initech_card, invoice_number="INV-1")

    assert stripe_api.intents() == []
    with db.read() as session:
        assert list(session.scalars(select(PaymentRecord))) == []


def test_a_declined_card_is_an_outcome_not_an_error(pay: Services, cards: Setup, stripe_api: Stripe) -> None:
    declining = add_card(pay, stripe_api, cards, DECLINES_AT_CHARGE)

    done = payments_of(pay).pay(ANN, "acme", declining, invoice_number="INV-2")

    assert (done.status, done.failure_reason) == ("failed", "The card was declined by the bank.")


def test_an_error_after_the_charge_returns_the_payment_as_stored_and_reconcile_settles_it_without_a_new_charge(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    broken = services_with(
        pay_settings, db, clock, notifier, BreaksAfterCharging("sk_test_x", api_base=stripe_api.api_base)
    )

    done = payments_of(broken).pay(ANN, "acme", cards.acme_card, invoice_number="INV-1")

    assert done.status == "pending"  # charged at Stripe, not yet known here: never charged again
    assert payments_of(pay).reconcile().succeeded == 1
    assert status_of(db, "INV-1") == ("paid", None)
    assert len(stripe_api.intents()) == 1
