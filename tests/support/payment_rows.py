"""Payments written straight into the database, for tests of what reads them (export, events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def add_account(db: Database, external_id: str = "acme", name: str = "Acme Corp", currency: str = "usd") -> int:
    with db.transaction() as session:
        account = AccountRecord(
            external_id=external_id, name=name, currency=currency, created_at=START, updated_at=START
        )
        session.add(account)
        session.flush()
        return account.id


def add_payment(
    db: Database,
    account_id: int,
    *,
    created_at: datetime,
    invoices: tuple[str, ...] = (),
    amount_minor: int = 1000,
    currency: str = "usd",
    status: str = "succeeded",
    email: str = "ann@acme.test",
    source: str = "slack",
    intent: str | None = None,
) -> int:
    """One payment settling newly created invoices numbered ``invoices``; returns its id."""
    with db.transaction() as session:
        payment = PaymentRecord(
            account_id=account_id,
            amount_minor=amount_minor,
            currency=currency,
            status=status,
            idempotency_key=f"key-{created_at.timestamp()}-{amount_minor}-{email}-{invoices}",
            stripe_payment_intent_id=intent,
            started_by_email=email,
            started_by_principal="slack:T1:U1",
            created_at=created_at,
            updated_at=created_at,
            settled_at=created_at + timedelta(seconds=3) if status in ("succeeded", "failed") else None,
            source=source,
        )
        session.add(payment)
        session.flush()
        for number in invoices:
            invoice = InvoiceRecord(
                account_id=account_id,
                number=number,
                issued_on=created_at.date(),
                due_on=created_at.date(),
                amount_due_minor=amount_minor,
                amount_paid_minor=0,
                currency=currency,
                status="open",
                description="",
                created_at=created_at,
                updated_at=created_at,
            )
            session.add(invoice)
            session.flush()
            session.add(PaymentInvoiceRecord(payment_id=payment.id, invoice_id=invoice.id, amount_minor=1))
        return payment.id
