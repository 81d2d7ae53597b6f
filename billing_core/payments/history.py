"""Payment history, newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Date, Integer, String, and_, cast, func, null, select, union_all
from sqlalchemy.orm import Session

from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    ContactRecord,
    InvoicePaidElsewhereRecord,
    InvoiceRecord,
    PaymentInvoiceRecord,
    PaymentRecord,
)
from billing_core.errors import AccountNotFound
from billing_core.identity.emails import normalize_email
from billing_core.money import Money
from billing_core.payments.states import payment_state
from billing_core.views import Actor, Page, PaidElsewhereView, PaymentView


def payment_view(account: AccountRecord, payment: PaymentRecord, numbers: tuple[str, ...]) -> PaymentView:
    return PaymentView(
        id=payment.id,
        account_external_id=account.external_id,
        amount=Money(payment.amount_minor, payment.currency),
        status=payment.status,
        state=payment_state(payment.status, payment.amount_minor, payment.refunded_minor or 0, payment.dispute_status),
        refunded=Money(payment.refunded_minor or 0, payment.currency),
        created_at=payment.created_at,
        invoice_numbers=numbers,
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
        failure_reason=payment.failure_reason,
        action_url=payment.action_url,
        settled_at=payment.settled_at,
        stripe_payment_intent_id=payment.stripe_payment_intent_id,
        receipt_url=payment.receipt_url,
    )


def payment_views(
    session: Session, account: AccountRecord, payments: Sequence[PaymentRecord]
) -> tuple[PaymentView, ...]:
    """Views of ``payments`` with the invoice numbers each settles, in one extra query."""
    numbers: dict[int, list[str]] = {p.id: [] for p in payments}
    if payments:
        for payment_id, number in session.execute(
            select(PaymentInvoiceRecord.payment_id, InvoiceRecord.number)
            .join(InvoiceRecord, InvoiceRecord.id == PaymentInvoiceRecord.invoice_id)
            .where(PaymentInvoiceRecord.payment_id.in_(numbers))
            .order_by(InvoiceRecord.number)
        ):
            numbers[payment_id].append(number)
    return tuple(payment_view(account, p, tuple(numbers[p.id])) for p in payments)


class PaymentHistory:
    """Reads an account's payments for its billing contacts."""

    def __init__(self, *, db: Database) -> None:
        self._db = db

    def page(self, actor: Actor, account_external_id: str, page: int = 0, page_size: int = 10) -> Page[PaymentView]:
        """One page of payments (newest first) with the invoices each one settles."""
        return self._page(actor, account_external_id, page, page_size, outside=False)[0]

    def page_with_outside(
        self, actor: Actor, account_external_id: str, page: int = 0, page_size: int = 10
    ) -> tuple[Page[PaymentView], tuple[PaidElsewhereView, ...]]:
        """``page``, and on the first page also the ten invoices most recently reported paid
        outside Slack (newest first), read in the statement that reads the invoice numbers."""
        return self._page(actor, account_external_id, page, page_size, outside=page == 0)

    def _page(
        self, actor: Actor, account_external_id: str, page: int, page_size: int, *, outside: bool
    ) -> tuple[Page[PaymentView], tuple[PaidElsewhereView, ...]]:
        page = max(0, page)
        page_size = min(max(1, page_size), 50)
        if not isinstance(account_external_id, str) or not account_external_id:
            raise AccountNotFound(account_external_id)
        member = (
            select(AccountRecord.id)
            .join(
                ContactRecord,
                and_(ContactRecord.account_id == AccountRecord.id, ContactRecord.email == normalize_email(actor.email)),
            )
            .where(AccountRecord.external_id == account_external_id)
        )
        # The membership join is the guard; the page and its total come in the same statement
        # (a member with no payments gets one row of NULLs, with a total of 0).
        query = (
            member.add_columns(*_PAYMENT_COLUMNS, func.count(PaymentRecord.id).over())
            .outerjoin(PaymentRecord, PaymentRecord.account_id == AccountRecord.id)
            .order_by(PaymentRecord.created_at.desc(), PaymentRecord.id.desc())
            .offset(page * page_size)
            .limit(page_size)
        )
        with self._db.reading() as connection:
            rows = connection.execute(query).all()
            if rows:
                total = int(rows[0][-1])
            else:  # past the last page: still a membership check, and the total for the footer
                counted = connection.execute(
                    member.add_columns(func.count(PaymentRecord.id))
                    .outerjoin(PaymentRecord, PaymentRecord.account_id == AccountRecord.id)
                    .group_by(AccountRecord.id)
                ).first()
                if counted is None:
                    raise AccountNotFound(account_external_id)
                total = int(counted[1])
            payments = [row[1:-1] for row in rows if row[1] is not None]
            numbers: dict[int, list[str]] = {row[0]: [] for row in payments}
            elsewhere: list[PaidElsewhereView] = []
            reads: list[Any] = []
            if numbers:
                reads.append(
                    select(PaymentInvoiceRecord.payment_id, InvoiceRecord.number, *_NO_REPORT)
                    .join(InvoiceRecord, InvoiceRecord.id == PaymentInvoiceRecord.invoice_id)
                    .where(PaymentInvoiceRecord.payment_id.in_(numbers))
                )
            if outside:
                reads.append(select(*_outside(actor, account_external_id).c))
            if reads:
                statement: Any = reads[0] if len(reads) == 1 else union_all(*reads)
                for row in connection.execute(statement):
                    if row[0] is not None:
                        numbers[row[0]].append(row[1])
                    else:
                        elsewhere.append(_report(row[1], list(row[2:])))
            for listed in numbers.values():
                listed.sort()
        items = tuple(_payment_from_row(account_external_id, row, tuple(numbers[row[0]])) for row in payments)
        elsewhere.sort(key=lambda view: (view.paid_on, view.invoice_number), reverse=True)
        return Page(items=items, page=page, page_size=page_size, total=total), tuple(elsewhere)


# Typed NULLs: PostgreSQL matches a UNION's columns by type.
_NO_REPORT = (
    cast(null(), BigInteger).label("amount_minor"),
    cast(null(), String).label("currency"),
    cast(null(), String).label("method"),
    cast(null(), String).label("reference"),
    cast(null(), Date).label("paid_on"),
)


def _outside(actor: Actor, account_external_id: str) -> Any:
    """The member account's ten invoices most recently reported paid outside Slack, as a subquery
    whose columns line up with the invoice-numbers read (payment id NULL)."""
    report = InvoicePaidElsewhereRecord
    return (
        select(
            cast(null(), Integer).label("payment_id"),
            InvoiceRecord.number,
            report.amount_minor,
            report.currency,
            report.method,
            report.reference,
            report.paid_on,
        )
        .join(report, report.invoice_id == InvoiceRecord.id)
        .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
        .join(
            ContactRecord,
            and_(ContactRecord.account_id == AccountRecord.id, ContactRecord.email == normalize_email(actor.email)),
        )
        .where(AccountRecord.external_id == account_external_id, InvoiceRecord.closed_as == "paid_elsewhere")
        .order_by(report.paid_on.desc(), InvoiceRecord.number)
        .limit(10)
        .subquery()
    )


def _report(number: str, report: list[Any]) -> PaidElsewhereView:
    amount, currency, method, reference, paid_on = report
    return PaidElsewhereView(
        invoice_number=number, amount=Money(int(amount), currency), method=method, reference=reference, paid_on=paid_on
    )


_PAYMENT_COLUMNS = (
    PaymentRecord.id,
    PaymentRecord.amount_minor,
    PaymentRecord.currency,
    PaymentRecord.status,
    PaymentRecord.created_at,
    PaymentRecord.card_brand,
    PaymentRecord.card_last4,
    PaymentRecord.failure_reason,
    PaymentRecord.action_url,
    PaymentRecord.settled_at,
    PaymentRecord.stripe_payment_intent_id,
    PaymentRecord.receipt_url,
    PaymentRecord.refunded_minor,
    PaymentRecord.dispute_status,
)


def _payment_from_row(account_external_id: str, row: Any, numbers: tuple[str, ...]) -> PaymentView:
    (
        payment_id,
        amount,
        currency,
        status,
        created_at,
        brand,
        last4,
        failure,
        action_url,
        settled_at,
        intent_id,
        receipt_url,
        refunded,
        dispute,
    ) = row
    return PaymentView(
        id=payment_id,
        account_external_id=account_external_id,
        amount=Money(amount, currency),
        status=status,
        state=payment_state(status, amount, refunded or 0, dispute),
        refunded=Money(refunded or 0, currency),
        created_at=created_at,
        invoice_numbers=numbers,
        card_brand=brand,
        card_last4=last4,
        failure_reason=failure,
        action_url=action_url,
        settled_at=settled_at,
        stripe_payment_intent_id=intent_id,
        receipt_url=receipt_url,
    )
