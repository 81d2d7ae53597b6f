"""The payable rule (``billing_core.payments.payable``), the one the pay modal and the pay path share."""

from __future__ import annotations

from datetime import date

import pytest

from billing_core.errors import (
    InvoiceAlreadyPaid,
    InvoiceClosedAtSource,
    InvoiceNotPayable,
    NothingToPay,
    PaymentInProgress,
)
from billing_core.payments.payable import balance_refusal, closed_at_source, invoice_refusal


def refusal(status: str, outstanding: int = 100, *, locked: bool = False, closed_as: str | None = None) -> object:
    closed = closed_at_source("INV-1", status, closed_as, date(2026, 11, 1))
    error = invoice_refusal("INV-1", status=status, outstanding_minor=outstanding, locked=locked, closed=closed)
    return type(error) if error is not None else None


def test_an_open_invoice_with_something_owed_and_no_payment_under_way_is_payable() -> None:
    assert refusal("open") is None


@pytest.mark.parametrize(
    ("status", "outstanding", "locked", "closed_as", "error"),
    [
        ("paid", 0, False, None, InvoiceAlreadyPaid),
        ("open", 0, False, None, InvoiceAlreadyPaid),  # nothing left on it: paid, whatever its status says
        ("open", 100, True, None, PaymentInProgress),
        ("void", 100, False, None, InvoiceClosedAtSource),
        ("paid", 0, False, "paid_elsewhere", InvoiceClosedAtSource),
        ("void", 100, False, "uncollectible", InvoiceClosedAtSource),  # written off: void, closed as such
        ("draft", 100, False, None, InvoiceNotPayable),
    ],
)
def test_an_invoice_is_refused_saying_why(
    status: str, outstanding: int, locked: bool, closed_as: str | None, error: type
) -> None:
    assert refusal(status, outstanding, locked=locked, closed_as=closed_as) is error


def test_a_balance_is_what_is_owed_on_open_invoices() -> None:
    assert balance_refusal("acme", [(100, False), (0, True)]) is None  # a settled row's lock does not matter
    assert isinstance(balance_refusal("acme", []), NothingToPay)
    assert isinstance(balance_refusal("acme", [(0, False), (-5, False)]), NothingToPay)
    assert isinstance(balance_refusal("acme", [(100, False), (50, True)]), PaymentInProgress)
