"""One click, one charge: double and concurrent submits (run on PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from billing_core.container import Services
from billing_core.errors import BillingError, InvoiceAlreadyPaid, PaymentInProgress
from billing_core.views import PaymentView
from tests.support.payments import ANN, Setup, Stripe


def run_together(count: int, work: Callable[[], PaymentView]) -> tuple[list[PaymentView], list[BaseException]]:
    """Start ``count`` threads at the same moment; collect results and errors."""
    barrier = threading.Barrier(count)
    results: list[PaymentView] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        try:
            result = work()
        except BaseException as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_a_double_submit_charges_once_and_the_second_click_hears_in_progress_or_paid(
    pay: Services, cards: Setup, stripe_api: Stripe
) -> None:
    first = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with pytest.raises(PaymentInProgress):
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    done = pay.require_payments().service.execute(first.id)
    again = pay.require_payments().service.execute(first.id)

    assert done.status == again.status == "succeeded"
    assert len(stripe_api.intents()) == 1
    with pytest.raises(InvoiceAlreadyPaid):
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)


def test_concurrent_submits_of_the_same_invoice_charge_once(pay: Services, cards: Setup, stripe_api: Stripe) -> None:
    def click() -> PaymentView:
        started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
        return pay.require_payments().service.execute(started.id)

    results, errors = run_together(6, click)

    assert [r.status for r in results] == ["succeeded"]
    assert errors and all(isinstance(e, PaymentInProgress | InvoiceAlreadyPaid) for e in errors), errors
    assert [pi["amount"] for pi in stripe_api.intents()] == [125000]


def test_concurrent_submits_of_the_balance_charge_once(pay: Services, cards: Setup, stripe_api: Stripe) -> None:
    def click() -> PaymentView:
        started = pay.require_payments().service.start_balance_payment(ANN, "acme", cards.acme_card, 175050)
        return pay.require_payments().service.execute(started.id)

    results, errors = run_together(6, click)

    assert [r.status for r in results] == ["succeeded"]
    assert all(isinstance(e, BillingError) for e in errors), errors
    assert [pi["amount"] for pi in stripe_api.intents()] == [175050]


def test_concurrent_executes_of_one_payment_charge_once(pay: Services, cards: Setup, stripe_api: Stripe) -> None:
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-2", cards.acme_card)

    results, errors = run_together(6, lambda: pay.require_payments().service.execute(started.id))

    assert errors == []
    assert len(stripe_api.intents()) == 1
    assert pay.require_payments().service.get(ANN, "acme", started.id).status == "succeeded"
    assert {r.status for r in results} <= {"succeeded", "pending"}
