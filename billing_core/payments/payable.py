"""Is this invoice (or this balance) payable now? The one rule, asked by the pay modal before it
opens (``PaymentService.quote``) and by every path that starts a payment (``PaymentService``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from billing_core.accounts.invoice_state import PAID_ELSEWHERE, VOID
from billing_core.errors import (
    BillingError,
    InvoiceAlreadyPaid,
    InvoiceClosedAtSource,
    InvoiceNotPayable,
    NothingToPay,
    PaymentInProgress,
)
from billing_core.money import Money
from billing_core.views import AccountView, InvoiceView


def closed_at_source(number: str, status: str, closed_as: str | None, on: date | None) -> InvoiceClosedAtSource | None:
    """Why an invoice must not be charged as its source said (paid elsewhere, void); None otherwise."""
    if status == "open":
        return None
    if closed_as == PAID_ELSEWHERE:
        return InvoiceClosedAtSource(number, PAID_ELSEWHERE, on)
    if status == VOID:
        return InvoiceClosedAtSource(number, closed_as or VOID, on)
    return None


def invoice_refusal(
    number: str, *, status: str, outstanding_minor: int, locked: bool, closed: InvoiceClosedAtSource | None
) -> BillingError | None:
    """Why one invoice cannot be paid now, or None when it can: closed at its source, already paid
    (or nothing left to pay on it), not open, or a payment of it under way."""
    if closed is not None:
        return closed
    if status == "paid" or (status == "open" and outstanding_minor <= 0):
        return InvoiceAlreadyPaid(number)
    if status != "open":
        return InvoiceNotPayable(number)
    if locked:
        return PaymentInProgress(number)
    return None


def balance_refusal(account_external_id: str, open_items: Iterable[tuple[int, bool]]) -> BillingError | None:
    """Why an account's open balance cannot be paid now, or None: ``open_items`` are its open
    invoices as (outstanding minor units, a payment under way). Only what is owed is paid."""
    owed = [locked for outstanding, locked in open_items if outstanding > 0]
    if not owed:
        return NothingToPay(account_external_id)
    if any(owed):
        return PaymentInProgress(account_external_id)
    return None


@dataclass(frozen=True, slots=True)
class Quote:
    """What a payment would pay: the account (its summary as of now for a balance), the invoices
    and the amount, exactly what the pay path then charges."""

    account: AccountView
    invoices: list[InvoiceView]
    amount: Money
    invoice: str | None = None  # one invoice's number; None for the whole balance


def quote_invoice(account: AccountView, found: InvoiceView) -> Quote:
    """One invoice of ``account`` (as the caller may see it), or the refusal raised."""
    refusal = invoice_refusal(
        found.number,
        status=found.status,
        outstanding_minor=found.outstanding.amount_minor,
        locked=found.payment_in_progress,
        closed=closed_at_source(found.number, found.status, found.closed_as, found.closed_on),
    )
    if refusal is not None:
        raise refusal
    return Quote(account, [found], found.outstanding, invoice=found.number)


def quote_balance(account: AccountView, invoices: list[InvoiceView]) -> Quote:
    """The open balance of ``account`` over its open ``invoices``, or the refusal raised."""
    refusal = balance_refusal(
        account.external_id, ((i.outstanding.amount_minor, i.payment_in_progress) for i in invoices)
    )
    if refusal is not None:
        raise refusal
    owed = sum(i.outstanding.amount_minor for i in invoices if i.outstanding.amount_minor > 0)
    return Quote(account, invoices, Money(owed, account.currency))
