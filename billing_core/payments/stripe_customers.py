"""The account's Stripe customer, created the first time it is needed."""

from __future__ import annotations

from sqlalchemy import select, update

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord
from billing_core.payments.ports import PaymentGateway


def ensure_customer(db: Database, gateway: PaymentGateway, clock: Clock, account_id: int) -> str:
    """The account's ``stripe_customer_id``, creating the customer and storing its id if missing.

    The idempotency key is per account, so two racing callers get one customer from Stripe; the
    compare-and-set keeps whichever id was stored first.
    """
    with db.read() as session:
        account = session.get(AccountRecord, account_id)
        assert account is not None
        if account.stripe_customer_id:
            return account.stripe_customer_id
        email = session.scalar(
            select(ContactRecord.email).where(ContactRecord.account_id == account_id).order_by(ContactRecord.id)
        )
        external_id = account.external_id
    customer_id = gateway.create_customer(
        email=email or "",
        account_external_id=external_id,
        idempotency_key=f"billing-customer-{external_id}",
    )
    with db.transaction() as session:
        session.execute(
            update(AccountRecord)
            .where(AccountRecord.id == account_id, AccountRecord.stripe_customer_id.is_(None))
            .values(stripe_customer_id=customer_id, updated_at=clock.now())
        )
        stored = session.scalar(select(AccountRecord.stripe_customer_id).where(AccountRecord.id == account_id))
    assert stored is not None
    return stored
