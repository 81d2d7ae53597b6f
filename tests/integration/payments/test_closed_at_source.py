"""Nothing charged that is not due (issue 27, item 3): right before any charge, a click's or
autopay's, the invoice's last state received from its source (the push API, the import file) is
checked again; paid, void or written off means no charge and a clear answer. Run on PostgreSQL
too with TEST_DATABASE_URL."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, PaymentRecord
from billing_core.errors import ChargeUnderWay, InvoiceClosedAtSource
from bot.settings import Settings
from tests.support.payments import ANN, RecordingNotifier, Setup, Stripe
from tests.support.sample_accounts import SAMPLE
from tests.support.services import MakeServices

WIRE = {"amount": 125000, "currency": "usd", "method": "wire", "reference": "W-1", "paid_on": "2026-12-03"}


@pytest.fixture
def push(pay_settings: Settings, make_services: MakeServices, notifier: RecordingNotifier) -> Services:
    """The same database's services with the push API on."""
    settings = pay_settings.model_copy(update={"billing_api_token": pay_settings.stripe_api_key})
    return make_services(settings=settings, notifier=notifier)


def acme_with_inv1(status: str) -> dict[str, Any]:
    """Acme's part of the sample import, with INV-1 in ``status``."""
    acme = copy.deepcopy(SAMPLE["accounts"][0])
    acme["invoices"][0]["status"] = status
    return {"accounts": [acme]}


def status_of(db: Database, number: str) -> str:
    with db.read() as session:
        return session.scalars(select(InvoiceRecord.status).where(InvoiceRecord.number == number)).one()


def test_an_invoice_paid_elsewhere_is_refused_at_the_click_saying_when_it_was_paid_outside_slack(
    pay: Services, push: Services, cards: Setup
) -> None:
    assert push.push is not None and pay.payments is not None
    push.push.paid_elsewhere("acme", "INV-1", WIRE)
    with pytest.raises(InvoiceClosedAtSource) as refused:
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    assert refused.value.sentence() == "INV-1 was paid on 3 Dec outside Slack"


def test_a_payment_started_but_not_yet_sent_is_cancelled_by_a_paid_elsewhere_report_and_never_charged(
    pay: Services, push: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    assert push.push is not None and pay.payments is not None
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    assert push.push.paid_elsewhere("acme", "INV-1", WIRE) is True
    after = pay.require_payments().service.execute(started.id)
    assert after.status == "failed"
    assert after.failure_reason == "INV-1 was paid on 3 Dec outside Slack; nothing was charged."
    with db.read() as session:
        key = session.scalars(select(PaymentRecord.idempotency_key).where(PaymentRecord.id == started.id)).one()
    assert stripe_api.intents(key) == []
    assert status_of(db, "INV-1") == "paid"


def test_a_report_while_the_charge_is_already_with_stripe_is_refused_and_changes_nothing(
    pay: Services, push: Services, cards: Setup, db: Database, clock: FixedClock
) -> None:
    assert push.push is not None and pay.payments is not None
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with db.transaction() as session:  # as execution.py does, just before its Stripe call
        session.execute(update(PaymentRecord).where(PaymentRecord.id == started.id).values(submitted_at=clock.now()))
    with pytest.raises(ChargeUnderWay):
        push.push.paid_elsewhere("acme", "INV-1", WIRE)
    with pytest.raises(ChargeUnderWay):
        push.push.void("acme", "INV-1")
    assert status_of(db, "INV-1") == "open"


def test_an_invoice_closed_at_its_source_after_the_click_but_before_the_charge_is_not_charged(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    """Whatever closed it (a direct write here: the re-check does not rely on the closers' care)."""
    assert pay.payments is not None
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with db.transaction() as session:
        session.execute(
            update(InvoiceRecord).where(InvoiceRecord.number == "INV-1").values(status="void", closed_as="void")
        )
    after = pay.require_payments().service.execute(started.id)
    assert after.status == "failed" and after.failure_reason is not None
    assert after.failure_reason.startswith("INV-1 was voided")
    assert stripe_api.succeeded_charges() == []


def test_an_import_that_marks_an_invoice_paid_cancels_a_payment_not_yet_sent(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    assert pay.payments is not None
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    pay.importer.run(acme_with_inv1("paid"))
    assert pay.require_payments().service.execute(started.id).status == "failed"
    assert stripe_api.succeeded_charges() == []
    assert status_of(db, "INV-1") == "paid"


def test_an_import_leaves_open_an_invoice_whose_charge_is_already_with_stripe(
    pay: Services, cards: Setup, db: Database, clock: FixedClock
) -> None:
    assert pay.payments is not None
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with db.transaction() as session:
        session.execute(update(PaymentRecord).where(PaymentRecord.id == started.id).values(submitted_at=clock.now()))
    summary = pay.importer.run(acme_with_inv1("void"))
    assert summary.extra["invoices_left_open"] == 1
    assert status_of(db, "INV-1") == "open"


def test_autopay_does_not_charge_an_invoice_paid_elsewhere_between_its_plan_and_its_charge(
    pay: Services, push: Services, cards: Setup, stripe_api: Stripe, clock: FixedClock
) -> None:
    assert push.push is not None and pay.autopay is not None and pay.payments is not None
    pay.autopay.turn_on(ANN, "acme")
    clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    autopay_pass = pay.require_payments().autopay_pass
    planned = autopay_pass.plan()
    assert [charge.invoice_number for charge in planned] == ["INV-2"]
    push.push.paid_elsewhere("acme", "INV-2", WIRE | {"amount": 50050})
    result = autopay_pass.run()
    assert result.summary() == "charged 0, declined 0, skipped 0"
    assert stripe_api.succeeded_charges() == []


def test_concurrent_paid_elsewhere_reports_and_pay_clicks_charge_at_most_once_and_never_a_closed_invoice(
    pay: Services, push: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    """A click and the vendor's report race: either the charge or the report wins, never both."""
    payments, api = pay.require_payments().service, push.push
    assert api is not None and payments is not None
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        barrier.wait()
        try:
            outcomes.append(payments.pay(ANN, "acme", cards.acme_card, invoice_number="INV-1").status)
        except Exception as error:
            outcomes.append(type(error).__name__)

    def report() -> None:
        barrier.wait()
        try:
            outcomes.append("report:" + str(api.paid_elsewhere("acme", "INV-1", WIRE)))
        except Exception as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=click), threading.Thread(target=report)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    charged = len(stripe_api.succeeded_charges())
    closed_elsewhere = "report:True" in outcomes
    assert charged + int(closed_elsewhere) == 1, outcomes
    assert status_of(db, "INV-1") == "paid"


def test_a_full_ledger_leaves_open_an_invoice_whose_charge_is_with_stripe_and_cancels_one_not_yet_sent(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database, clock: FixedClock
) -> None:
    assert pay.payments is not None
    sent = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with db.transaction() as session:
        session.execute(update(PaymentRecord).where(PaymentRecord.id == sent.id).values(submitted_at=clock.now()))
    waiting = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-2", cards.acme_card)
    ledger = acme_with_inv1("open")
    ledger["accounts"][0]["invoices"] = [i for i in ledger["accounts"][0]["invoices"] if i["status"] != "open"]
    ledger["closed_as"] = "paid_elsewhere"
    summary = pay.importer.run(ledger, full=True)
    assert (summary.closed, summary.left_open) == (("INV-2",), ("INV-1",))
    assert status_of(db, "INV-1") == "open" and status_of(db, "INV-2") == "paid"
    assert pay.require_payments().service.execute(waiting.id).status == "failed"
    assert stripe_api.succeeded_charges() == []
