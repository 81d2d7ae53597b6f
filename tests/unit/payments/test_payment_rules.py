"""The payment rules on the in-memory payment provider (``tests/support/fakes.py``): paying, one
charge however often a person clicks, and an unknown outcome that stays pending until the provider
says what happened. The same rules against localstripe are in ``tests/integration/payments``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from billing_core.accounts.service import AccountService
from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord
from billing_core.errors import InvoiceAlreadyPaid, PaymentInProgress
from billing_core.notifications import NullNotifier
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.methods import PaymentMethodService
from billing_core.payments.service import PaymentService
from billing_core.sources.importer import Importer
from tests.support.fakes import FakePaymentGateway
from tests.support.sample_accounts import ANN, SAMPLE, give_customer


@dataclass
class World:
    db: Database
    clock: FixedClock
    gateway: FakePaymentGateway
    payments: PaymentService
    card: str


@pytest.fixture
def world(db: Database, clock: FixedClock) -> World:
    Importer(db=db, clock=clock).run(SAMPLE)
    gateway = FakePaymentGateway()
    customer = gateway.add_customer("ann@acme.test")
    card = gateway.add_card(customer)
    give_customer(db, "acme", customer)
    PaymentMethodService(db=db, clock=clock, gateway=gateway, public_url="https://bot.test").list(
        ANN, "acme", refresh=True
    )
    links = AuthLinks(secret="whsec_x", base_url="https://bot.test", clock=clock)
    accounts = AccountService(db=db, clock=clock, timezone=ZoneInfo("UTC"))
    payments = PaymentService(
        db=db, clock=clock, gateway=gateway, notifier=NullNotifier(), links=links, accounts=accounts
    )
    return World(db, clock, gateway, payments, card)


def invoice_state(db: Database, number: str) -> tuple[str, int | None]:
    with db.read() as session:
        record = session.scalars(select(InvoiceRecord).where(InvoiceRecord.number == number)).one()
        return record.status, record.payment_lock_id


def test_paying_an_invoice_charges_its_amount_once_and_marks_it_paid(world: World) -> None:
    done = world.payments.pay(ANN, "acme", world.card, invoice_number="INV-1")

    assert (done.status, done.amount.amount_minor, done.invoice_numbers) == ("succeeded", 125000, ("INV-1",))
    assert [(c.amount_minor, c.currency, c.off_session) for c in world.gateway.charges] == [(125000, "usd", False)]
    assert world.gateway.charges[0].metadata["billing_payment_id"] == str(done.id)
    assert invoice_state(world.db, "INV-1") == ("paid", None)


def test_paying_the_confirmed_balance_charges_exactly_that_sum_once(world: World) -> None:
    done = world.payments.pay(ANN, "acme", world.card, expected_amount_minor=125000 + 50050)

    assert (done.status, done.invoice_numbers) == ("succeeded", ("INV-1", "INV-2"))
    assert [c.amount_minor for c in world.gateway.charges] == [175050]


def test_a_double_click_is_one_payment_and_one_charge(world: World) -> None:
    first = world.payments.start_invoice_payment(ANN, "acme", "INV-1", world.card)
    with pytest.raises(PaymentInProgress):  # the second click, before the first was charged
        world.payments.start_invoice_payment(ANN, "acme", "INV-1", world.card)

    world.payments.execute(first.id)
    world.payments.execute(first.id)  # a redelivered request executes the same payment again

    assert len(world.gateway.charges) == 1
    with pytest.raises(InvoiceAlreadyPaid):  # a click after it was paid
        world.payments.pay(ANN, "acme", world.card, invoice_number="INV-1")
    assert len(world.gateway.charges) == 1


def test_a_lost_answer_leaves_the_payment_pending_and_reconcile_settles_it_without_a_new_charge(
    world: World,
) -> None:
    world.gateway.lose_next_charge("after_charging")

    done = world.payments.pay(ANN, "acme", world.card, invoice_number="INV-1")

    assert done.status == "pending"  # charged at the provider, not known here: never charged again
    assert invoice_state(world.db, "INV-1") == ("open", done.id)

    summary = world.payments.reconcile()

    assert (summary.succeeded, summary.still_pending) == (1, 0)
    assert invoice_state(world.db, "INV-1") == ("paid", None)
    assert len(world.gateway.charges) == 1


def test_executing_a_payment_whose_answer_was_lost_again_looks_it_up_and_never_charges_again(world: World) -> None:
    world.gateway.lose_next_charge("after_charging")
    done = world.payments.pay(ANN, "acme", world.card, invoice_number="INV-1")

    again = world.payments.execute(done.id)  # a retried request, a second worker

    assert again.status == "succeeded"
    assert len(world.gateway.charges) == 1


def test_while_the_provider_cannot_be_reached_the_payment_stays_pending(world: World) -> None:
    world.gateway.lose_next_charge("after_charging")
    done = world.payments.pay(ANN, "acme", world.card, invoice_number="INV-1")
    world.gateway.unavailable = True

    summary = world.payments.reconcile()

    assert (summary.errors, world.payments.get(ANN, "acme", done.id).status) == (1, "pending")
    assert invoice_state(world.db, "INV-1") == ("open", done.id)


def test_a_call_that_never_arrived_stays_pending_then_is_made_once_with_the_same_key(world: World) -> None:
    world.gateway.lose_next_charge("before_charging")

    done = world.payments.pay(ANN, "acme", world.card, invoice_number="INV-1")
    assert done.status == "pending"

    assert world.payments.reconcile().still_pending == 1  # the first minute: only looked for
    assert world.gateway.charges == []

    world.clock.set(world.clock.now() + timedelta(minutes=2))
    assert world.payments.reconcile().succeeded == 1  # replayed with the stored key: made once
    world.payments.reconcile()
    assert len(world.gateway.charges) == 1
    assert invoice_state(world.db, "INV-1") == ("paid", None)


def test_a_declined_card_is_an_outcome_and_frees_the_invoice(world: World) -> None:
    world.gateway.declines.add(world.card)

    done = world.payments.pay(ANN, "acme", world.card, invoice_number="INV-2")

    assert (done.status, done.failure_reason) == ("failed", "The card was declined by the bank.")
    assert invoice_state(world.db, "INV-2") == ("open", None)
