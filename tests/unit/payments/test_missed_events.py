"""The reconcile pass's look at refund and dispute events no webhook brought, on the in-memory
payment provider (``tests/support/fakes.py``), and where a payment's receipt DM is remembered.
The same over signed HTTP against the strict Stripe stand-in: tests/e2e/test_missed_refunds_and_disputes.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from billing_core.accounts.service import AccountService
from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.notifications import PaymentFollowUp, PrincipalNotice
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.dm_threads import DmThread, PaymentDmThreads
from billing_core.payments.methods import PaymentMethodService
from billing_core.payments.service import PaymentService
from billing_core.payments.webhooks import CATCH_UP_WINDOW, StripeWebhookService
from billing_core.sources.importer import Importer
from billing_core.views import Actor
from tests.support.fakes import FakePaymentGateway
from tests.support.sample_accounts import ANN, SAMPLE, give_customer


@dataclass
class Told:
    notices: list[tuple[str, PrincipalNotice]]

    def tell_principal(self, principal: str, message: PrincipalNotice) -> None:
        self.notices.append((principal, message))


@dataclass
class World:
    db: Database
    clock: FixedClock
    gateway: FakePaymentGateway
    payments: PaymentService
    webhooks: StripeWebhookService
    told: Told
    card: str

    def refund_event(self, intent: str, amount_refunded: int, *, age: timedelta = timedelta()) -> dict[str, Any]:
        """A ``charge.refunded`` event the provider made (and no webhook delivered)."""
        event = {
            "id": f"evt_{len(self.gateway.events) + 1}",
            "type": "charge.refunded",
            "created": int((self.clock.now() - age).timestamp()),
            "data": {"object": {"object": "charge", "payment_intent": intent, "amount_refunded": amount_refunded}},
        }
        self.gateway.events.append(event)
        return event


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
    told = Told([])
    links = AuthLinks(secret="whsec_x", base_url="https://bot.test", clock=clock)
    accounts = AccountService(db=db, clock=clock, timezone=ZoneInfo("UTC"))
    payments = PaymentService(db=db, clock=clock, gateway=gateway, notifier=told, links=links, accounts=accounts)
    webhooks = StripeWebhookService(
        db=db, clock=clock, gateway=gateway, reconciler=payments.reconciler, notifier=told, secret="whsec_x"
    )
    return World(db, clock, gateway, payments, webhooks, told, card)


def paid(world: World) -> tuple[int, str]:
    done = world.payments.pay(ANN, "acme", world.card, invoice_number="INV-1")
    assert done.status == "succeeded" and done.stripe_payment_intent_id is not None
    return done.id, done.stripe_payment_intent_id


def test_a_refund_no_webhook_brought_is_applied_by_the_next_pass_and_not_by_the_one_after(world: World) -> None:
    payment_id, intent = paid(world)
    world.refund_event(intent, 125000)

    assert world.webhooks.catch_up().applied == 1
    assert world.payments.get(ANN, "acme", payment_id).state == "refunded"
    assert [type(m) for _, m in world.told.notices] == [PaymentFollowUp]
    assert world.webhooks.catch_up().applied == 0
    assert len(world.told.notices) == 1


def test_an_event_applied_by_its_webhook_first_is_skipped_by_the_pass(world: World) -> None:
    _, intent = paid(world)
    event = world.refund_event(intent, 25000)
    obj = event["data"]["object"]
    assert world.webhooks._process(event, obj) == "applied"  # as the webhook route applies it

    assert world.webhooks.catch_up().applied == 0
    assert world.webhooks._process(event, obj) == "duplicate"


def test_events_older_than_the_window_are_not_looked_at(world: World) -> None:
    payment_id, intent = paid(world)
    world.refund_event(intent, 125000, age=CATCH_UP_WINDOW + timedelta(minutes=1))

    assert world.webhooks.catch_up().listed == 0
    assert world.payments.get(ANN, "acme", payment_id).state == "succeeded"


def test_stripe_unreachable_counts_as_an_error_and_changes_nothing(world: World) -> None:
    _, intent = paid(world)
    world.refund_event(intent, 125000)
    world.gateway.unavailable = True

    assert world.webhooks.catch_up().errors == 1
    world.gateway.unavailable = False
    assert world.webhooks.catch_up().applied == 1


def test_the_receipt_dm_is_kept_once_and_only_for_the_payers_own_succeeded_payment(world: World) -> None:
    payment_id, _ = paid(world)
    threads = PaymentDmThreads(world.db)
    someone = Actor(email="eve@example.test", principal="slack:T1:UEVE", display_name="Eve")

    assert not world.payments.remember_receipt_dm(someone, payment_id, DmThread("DEVE", "1.000001"))
    assert world.payments.remember_receipt_dm(ANN, payment_id, DmThread("DANN", "1.000002"))
    assert not world.payments.remember_receipt_dm(ANN, payment_id, DmThread("DANN", "1.000003"))  # the first wins
    assert threads.thread_of(payment_id) == DmThread("DANN", "1.000002")
    assert threads.thread_of(payment_id + 1) is None
