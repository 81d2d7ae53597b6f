"""Payment history, newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord
from billing_core.money import Money
from billing_core.services.access import require_account
from billing_core.views import Actor, Page, PaymentView


def payment_view(account: AccountRecord, payment: PaymentRecord, numbers: tuple[str, ...]) -> PaymentView:
    return PaymentView(
        id=payment.id,
        account_external_id=account.external_id,
        amount=Money(payment.amount_minor, payment.currency),
        status=payment.status,
        created_at=payment.created_at,
        invoice_numbers=numbers,
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
        failure_reason=payment.failure_reason,
        action_url=payment.action_url,
        settled_at=payment.settled_at,
        stripe_payment_intent_id=payment.stripe_payment_intent_id,
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
        page = max(0, page)
        page_size = min(max(1, page_size), 50)
        with self._db.read() as session:
            account = require_account(session, actor, account_external_id)
            total = session.scalar(
                select(func.count(PaymentRecord.id)).where(PaymentRecord.account_id == account.id)
            )
            payments = session.scalars(
                select(PaymentRecord)
                .where(PaymentRecord.account_id == account.id)
                .order_by(PaymentRecord.created_at.desc(), PaymentRecord.id.desc())
                .offset(page * page_size)
                .limit(page_size)
            ).all()
            items = payment_views(session, account, payments)
            return Page(items=items, page=page, page_size=page_size, total=int(total or 0))
