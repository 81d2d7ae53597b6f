"""When we do not hear Stripe's answer: network failures, lost responses, and a crash mid-flow."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import PaymentRecord
from billing_core.errors import PaymentProviderUnavailable
from billing_core.payments.intents import Intent
from bot.settings import Settings
from tests.support.http_receiver import HttpReceiver
from tests.support.localstripe_server import free_port
from tests.support.payments import ANN, RecordingNotifier, Setup, Stripe, services_with


class ProcessKilled(BaseException):
    """Stands for the process dying: nothing after it runs, no ``except Exception`` catches it."""


class ChargesThen(StripeGateway):
    """The real gateway, but after Stripe has charged, the answer is lost in the given way."""

    def __init__(self, api_base: str, fault: BaseException) -> None:
        super().__init__("sk_test_x", api_base=api_base)
        self.fault = fault

    def charge(self, **kwargs: Any) -> Intent:
        super().charge(**kwargs)
        raise self.fault


def test_a_network_failure_leaves_the_payment_pending_and_reconcile_settles_it_without_a_new_charge(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    lost = ChargesThen(stripe_api.api_base, PaymentProviderUnavailable("read timed out"))
    flaky = services_with(pay_settings, db, clock, notifier, lost)
    started = flaky.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)

    assert flaky.require_payments().service.execute(started.id).status == "pending"
    summary = pay.require_payments().service.reconcile()

    assert (summary.checked, summary.succeeded) == (1, 1)
    assert flaky.require_payments().service.execute(started.id).status == "succeeded"  # a second call only looks
    assert len(stripe_api.intents()) == 1
    assert pay.require_payments().service.reconcile().checked == 0
    assert [(p, n.status) for p, _, n in notifier.settled] == [(ANN.principal, "succeeded")]


def test_a_second_execute_after_a_lost_answer_looks_the_payment_up_instead_of_charging_again(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    lost = ChargesThen(stripe_api.api_base, PaymentProviderUnavailable("read timed out"))
    flaky = services_with(pay_settings, db, clock, notifier, lost)
    started = flaky.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)

    assert flaky.require_payments().service.execute(started.id).status == "pending"
    assert pay.require_payments().service.execute(started.id).status == "succeeded"
    assert len(stripe_api.intents()) == 1


def test_an_unreachable_stripe_leaves_the_payment_pending_until_reconcile_finds_nothing_was_charged(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    nowhere = StripeGateway("sk_test_x", api_base=f"http://127.0.0.1:{free_port()}")
    down = services_with(pay_settings, db, clock, notifier, nowhere)
    started = down.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)

    # Stripe cannot even be asked whose card it is: nothing was sent, so the payment fails cleanly.
    done = down.require_payments().service.execute(started.id)

    assert done.status == "failed"
    assert stripe_api.intents() == []


def test_a_stripe_5xx_while_charging_is_an_unknown_outcome_not_a_failure(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    with HttpReceiver(status=503) as broken:
        gateway = StripeGateway("sk_test_x", api_base=broken.url("").rstrip("/"))
        with pytest.raises(PaymentProviderUnavailable):
            gateway.charge(
                amount_minor=100,
                currency="usd",
                customer_id="cus_1",
                payment_method_id="pm_1",
                metadata={},
                idempotency_key="k",
                off_session=False,
            )
        posted = broken.wait_for(lambda r: r.path == "/v1/payment_intents")
        assert posted.headers.get("idempotency-key") == "k"
        assert b"description" not in posted.body


def test_a_payment_submitted_but_never_sent_is_sent_once_by_reconcile_replaying_its_key(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with db.transaction() as session:  # as if the process died right before sending
        session.execute(update(PaymentRecord).values(submitted_at=clock.now()))

    assert pay.require_payments().service.reconcile().still_pending == 1  # the first request might still be under way
    assert stripe_api.intents() == []
    clock.set(clock.now() + timedelta(minutes=2))
    summary = pay.require_payments().service.reconcile()

    assert (summary.succeeded, summary.still_pending) == (1, 0)
    assert [n.status for _, _, n in notifier.settled] == ["succeeded"]
    assert len(stripe_api.intents()) == 1
    assert pay.require_payments().service.reconcile().checked == 0


def test_after_stripes_idempotency_window_a_payment_not_found_is_failed_as_not_charged(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with db.transaction() as session:  # sent a day ago, never answered, never arrived
        session.execute(update(PaymentRecord).values(submitted_at=clock.now() - timedelta(hours=25)))

    summary = pay.require_payments().service.reconcile()

    assert (summary.failed, summary.still_pending) == (1, 0)
    view = pay.require_payments().service.get(ANN, "acme", started.id)
    assert view.failure_reason == "The payment could not be sent to the card processor; nothing was charged."
    assert [n.status for _, _, n in notifier.settled] == ["failed"]
    assert stripe_api.intents() == []


def crash_after_charge(
    pay_settings: Settings,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    stripe_api: Stripe,
    cards: Setup,
) -> int:
    """Start a payment and let the process 'die' after Stripe charged, before our commit."""
    gateway = ChargesThen(stripe_api.api_base, ProcessKilled())
    crashing = services_with(pay_settings, db, clock, notifier, gateway)
    started = crashing.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with pytest.raises(ProcessKilled):
        crashing.require_payments().service.execute(started.id)
    assert crashing.require_payments().service.get(ANN, "acme", started.id).status == "pending"
    assert len(stripe_api.intents()) == 1
    return started.id


def test_after_a_crash_between_charge_and_commit_reconcile_settles_the_payment_exactly_once(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
) -> None:
    payment_id = crash_after_charge(pay_settings, db, clock, notifier, stripe_api, cards)

    first = pay.require_payments().service.reconcile()
    second = pay.require_payments().service.reconcile()
    again = pay.require_payments().service.execute(payment_id)

    assert (first.checked, first.succeeded) == (1, 1)
    assert second.checked == 0
    assert again.status == "succeeded"
    assert len(stripe_api.intents()) == 1
    history = pay.history.page(ANN, "acme").items
    assert [(p.status, p.amount.amount_minor) for p in history] == [("succeeded", 125000)]
    assert [n.status for _, _, n in notifier.settled] == ["succeeded"]
    accounts = pay.accounts.caller(ANN).accounts
    assert accounts[0].balance.amount_minor == 50050


def test_after_a_crash_between_charge_and_commit_the_webhook_settles_the_payment_exactly_once(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    webhook_inbox: HttpReceiver,
    http: TestClient,
) -> None:
    webhook_inbox.clear()
    payment_id = crash_after_charge(pay_settings, db, clock, notifier, stripe_api, cards)
    intent_id = stripe_api.intents()[0]["id"]

    delivery = webhook_inbox.wait_for(
        lambda r: b'"payment_intent.succeeded"' in r.body and intent_id.encode() in r.body, timeout=10
    )
    headers = {"Stripe-Signature": delivery.headers["stripe-signature"]}
    first = http.post("/stripe/webhook", content=delivery.body, headers=headers)
    replay = http.post("/stripe/webhook", content=delivery.body, headers=headers)

    assert first.status_code == replay.status_code == 200
    assert (first.json()["outcome"], replay.json()["outcome"]) == ("applied", "duplicate")
    assert pay.require_payments().service.get(ANN, "acme", payment_id).status == "succeeded"
    assert pay.require_payments().service.reconcile().checked == 0
    assert [n.status for _, _, n in notifier.settled] == ["succeeded"]
    assert len(stripe_api.intents()) == 1
    assert json.loads(delivery.body)["data"]["object"]["metadata"]["billing_payment_id"] == str(payment_id)
