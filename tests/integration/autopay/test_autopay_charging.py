"""Autopay charges each open invoice once on its due date, with the default card, like a click."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.autopay.charging import AutopayPass, AutopayResult
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, PaymentRecord
from billing_core.errors import AutopayNeedsDefaultCard, PaymentProviderUnavailable
from bot.settings import Settings
from tests.integration.autopay.conftest import RecordingMessenger, at
from tests.integration.payments.test_unknown_outcome import ChargesThen, ProcessKilled
from tests.support.payments import (
    ANN,
    DECLINES_AT_CHARGE,
    NEEDS_AUTHENTICATION,
    RecordingNotifier,
    Setup,
    Stripe,
    add_card,
    services_with,
)


def autopay_pass(pay: Services) -> AutopayPass:
    assert pay.payments is not None
    return pay.require_payments().autopay_pass


def turn_on(pay: Services) -> None:
    assert pay.autopay is not None
    pay.autopay.turn_on(ANN, "acme")


def test_turning_autopay_on_needs_a_default_card(pay: Services, messenger: RecordingMessenger) -> None:
    assert pay.autopay is not None
    with pytest.raises(AutopayNeedsDefaultCard):
        pay.autopay.turn_on(ANN, "globex")
    assert pay.autopay.status(ANN, "globex").enabled is False


def test_turning_autopay_on_and_off_leaves_an_audit_entry_each_way(
    pay: Services, cards: Setup, messenger: RecordingMessenger
) -> None:
    assert pay.autopay is not None
    on = pay.autopay.turn_on(ANN, "acme")
    off = pay.autopay.turn_off(ANN, "acme")

    assert on.enabled and on.card is not None and on.card.id == cards.acme_card
    assert not off.enabled and off.changed_by == ANN.email
    actions = [e.action for e in pay.audit.entries(account_external_id="acme")]
    assert "autopay.turned_on" in actions and "autopay.turned_off" in actions


def test_on_its_due_date_an_autopay_invoice_is_charged_once_and_the_contacts_get_the_receipt(
    pay: Services, cards: Setup, stripe_api: Stripe, clock: FixedClock, db: Database, messenger: RecordingMessenger
) -> None:
    turn_on(pay)
    at("2026-11-30", clock)
    assert autopay_pass(pay).run() == AutopayResult()  # the day before: nothing

    at("2026-12-01", clock)
    first = autopay_pass(pay).run()
    again = autopay_pass(pay).run()

    assert first.summary() == "charged 1, declined 0, skipped 0"
    assert again.summary() == "charged 0, declined 0, skipped 0"
    charges = stripe_api.succeeded_charges()
    assert [c["amount"] for c in charges] == [50050]
    assert charges[0]["payment_method"] == cards.acme_card
    with db.read() as session:
        assert session.scalars(select(PaymentRecord.source)).all() == ["autopay"]
    assert messenger.kinds() == ["charged"]
    assert messenger.sent[0][1].payment is not None and messenger.sent[0][1].payment.status == "succeeded"
    assert "INV-1" not in {n.invoice_number for _, n in messenger.sent}  # overdue before autopay: left alone


def test_two_passes_running_at_once_charge_an_invoice_once(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    clock: FixedClock,
    messenger: RecordingMessenger,
    pay_settings: Settings,
    db: Database,
    notifier: RecordingNotifier,
) -> None:
    turn_on(pay)
    at("2026-12-01", clock)
    other = services_with(
        pay_settings, db, clock, notifier, StripeGateway("sk_test_x", api_base=pay_settings.stripe_api_base)
    )
    passes = [autopay_pass(pay), autopay_pass(other)]
    barrier = threading.Barrier(2)
    results: list[AutopayResult] = []

    def run(one: AutopayPass) -> None:
        barrier.wait()
        results.append(one.run())

    threads = [threading.Thread(target=run, args=(one,)) for one in passes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.charged for r in results) == 1
    assert len(stripe_api.succeeded_charges()) == 1


def test_a_crash_after_the_stripe_call_is_settled_by_reconcile_and_charged_only_once(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    clock: FixedClock,
    messenger: RecordingMessenger,
    pay_settings: Settings,
    db: Database,
    notifier: RecordingNotifier,
) -> None:
    turn_on(pay)
    at("2026-12-01", clock)
    lost = services_with(
        pay_settings,
        db,
        clock,
        notifier,
        ChargesThen(pay_settings.stripe_api_base, PaymentProviderUnavailable("lost answer")),
    )

    unknown = autopay_pass(lost).run()
    assert unknown.summary() == "charged 0, declined 0, skipped 1"
    assert pay.payments is not None
    pay.require_payments().service.reconcile()
    later = autopay_pass(pay).run()

    assert later.summary() == "charged 0, declined 0, skipped 0"
    assert len(stripe_api.intents()) == 1 and len(stripe_api.succeeded_charges()) == 1
    assert messenger.kinds() == ["charged"]


def test_a_process_killed_right_after_the_stripe_call_is_reconciled_and_the_invoice_never_charged_again(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    clock: FixedClock,
    messenger: RecordingMessenger,
    pay_settings: Settings,
    db: Database,
    notifier: RecordingNotifier,
) -> None:
    turn_on(pay)
    at("2026-12-01", clock)
    dying = services_with(pay_settings, db, clock, notifier, ChargesThen(pay_settings.stripe_api_base, ProcessKilled()))

    with pytest.raises(ProcessKilled):
        autopay_pass(dying).run()
    assert autopay_pass(pay).run() == AutopayResult()  # the attempt is claimed: no second charge
    assert pay.payments is not None
    pay.require_payments().service.reconcile()
    autopay_pass(pay).run()

    assert len(stripe_api.intents()) == 1 and len(stripe_api.succeeded_charges()) == 1
    assert messenger.kinds() == ["charged"]


def test_a_declined_card_is_told_with_the_reason_and_retried_at_3_and_7_days_then_never_again(
    pay: Services, cards: Setup, stripe_api: Stripe, clock: FixedClock, messenger: RecordingMessenger
) -> None:
    declining = add_card(pay, stripe_api, cards, DECLINES_AT_CHARGE)
    assert pay.payments is not None
    pay.require_payments().methods.make_default(ANN, "acme", declining)
    turn_on(pay)

    days = ["2026-12-01", "2026-12-02", "2026-12-04", "2026-12-05", "2026-12-08", "2026-12-09", "2026-12-15"]
    declined = []
    for day in days:
        at(day, clock)
        declined.append(autopay_pass(pay).run().declined)

    assert declined == [1, 0, 1, 0, 1, 0, 0]
    assert len(stripe_api.intents()) == 3
    notices = [notice for _, notice in messenger.sent]
    assert [n.kind for n in notices] == ["declined"] * 3
    assert all("declined" in n.reason for n in notices)
    assert [n.retry_on.isoformat() if n.retry_on else None for n in notices] == ["2026-12-04", "2026-12-08", None]


def test_a_card_that_needs_3d_secure_gets_a_dm_with_the_authentication_link(
    pay: Services, cards: Setup, stripe_api: Stripe, clock: FixedClock, messenger: RecordingMessenger
) -> None:
    secure = add_card(pay, stripe_api, cards, NEEDS_AUTHENTICATION)
    assert pay.payments is not None
    pay.require_payments().methods.make_default(ANN, "acme", secure)
    turn_on(pay)
    at("2026-12-01", clock)

    result = autopay_pass(pay).run()

    assert result.declined == 1 and result.charged == 0
    ((_, notice),) = messenger.sent
    assert notice.kind == "needs_authentication"
    assert notice.action_url.startswith("http://bot.test/")
    at("2026-12-04", clock)
    assert autopay_pass(pay).run() == AutopayResult()  # awaiting the person, never charged again


def test_with_autopay_off_nothing_is_charged(
    pay: Services, cards: Setup, stripe_api: Stripe, clock: FixedClock, messenger: RecordingMessenger
) -> None:
    turn_on(pay)
    assert pay.autopay is not None
    pay.autopay.turn_off(ANN, "acme")
    at("2026-12-01", clock)

    assert autopay_pass(pay).run() == AutopayResult()
    assert stripe_api.intents() == []


def test_removing_the_last_card_turns_autopay_off_and_tells_the_contacts(
    pay: Services, cards: Setup, db: Database, clock: FixedClock, stripe_api: Stripe, messenger: RecordingMessenger
) -> None:
    turn_on(pay)
    with db.transaction() as session:  # the last card can only go once nothing is open
        session.execute(update(InvoiceRecord).values(status="paid"))
    assert pay.payments is not None and pay.autopay is not None

    pay.require_payments().methods.remove(ANN, "acme", cards.acme_card)

    assert pay.autopay.status(ANN, "acme").enabled is False
    assert messenger.kinds() == ["card_removed"]
    assert [
        e.detail.get("reason")
        for e in pay.audit.entries(account_external_id="acme")
        if e.action == "autopay.turned_off"
    ] == ["last card removed"]
