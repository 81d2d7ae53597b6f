"""The membership guard: every lookup of an account, invoice or payment goes through here.

A contact of account A asking for account B's invoice gets exactly the answer given for an
invoice that does not exist, so nothing leaks about other customers.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from billing_core.db.tables import AccountRecord, ContactRecord, InvoiceRecord, PaymentRecord
from billing_core.errors import AccountNotFound, InvoiceNotFound, PaymentNotFound
from billing_core.identity.emails import normalize_email
from billing_core.views import Actor


def member_accounts_query(email: str) -> Select[AccountRecord]:
    return (
        select(AccountRecord)
        .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
        .where(ContactRecord.email == normalize_email(email))
    )


def require_account(session: Session, actor: Actor, external_id: str) -> AccountRecord:
    """The account, if the actor is one of its billing contacts; ``AccountNotFound`` otherwise."""
    if not isinstance(external_id, str) or not external_id:
        raise AccountNotFound(external_id)
    account = session.scalars(
        member_accounts_query(actor.email).where(AccountRecord.external_id == external_id)
    ).first()
    if account is None:
        raise AccountNotFound(external_id)
    return account


def require_invoice(
    session: Session, actor: Actor, account_external_id: str, number: str, *, for_update: bool = False
) -> tuple[AccountRecord, InvoiceRecord]:
    """The invoice of a member account; ``InvoiceNotFound`` for anything else, account included."""
    try:
        account = require_account(session, actor, account_external_id)
    except AccountNotFound as error:
        raise InvoiceNotFound(number) from error
    query = select(InvoiceRecord).where(InvoiceRecord.account_id == account.id, InvoiceRecord.number == number)
    if for_update:
        query = query.with_for_update()
    invoice = session.scalars(query).first()
    if invoice is None:
        raise InvoiceNotFound(number)
    return account, invoice


def require_payment(
    session: Session, actor: Actor, account_external_id: str, payment_id: int
) -> tuple[AccountRecord, PaymentRecord]:
    try:
        account = require_account(session, actor, account_external_id)
    except AccountNotFound as error:
        raise PaymentNotFound(payment_id) from error
    payment = session.get(PaymentRecord, payment_id)
    if payment is None or payment.account_id != account.id:
        raise PaymentNotFound(payment_id)
    return account, payment
