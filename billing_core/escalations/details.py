"""Reading escalation records into views, and gathering the account's situation for the e-mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from billing_core.accounts.service import invoice_view
from billing_core.db.tables import (
    AccountRecord,
    EscalationRecord,
    InvoiceRecord,
    PaymentRecord,
)
from billing_core.escalations.views import TOPICS, EscalationDetail, EscalationView, format_reference
from billing_core.payments.history import payment_views
from billing_core.views import PaymentView

PrincipalDescriber = Callable[[str], str]
RECENT_PAYMENTS = 5


def escalation_view(session: Session, record: EscalationRecord) -> EscalationView:
    account = session.get(AccountRecord, record.account_id)
    invoice = session.get(InvoiceRecord, record.invoice_id) if record.invoice_id is not None else None
    return EscalationView(
        id=record.id,
        reference=format_reference(record.id),
        account_external_id=account.external_id if account else "",
        account_name=account.name if account else "",
        invoice_number=invoice.number if invoice else None,
        topic=record.topic,
        topic_label=TOPICS.get(record.topic, record.topic),
        message=record.message,
        origin=record.origin,
        status=record.status,
        delivery_status=record.delivery_status,
        requester_email=record.requester_email,
        requester_name=record.requester_name,
        requester_principal=record.requester_principal,
        created_at=record.created_at,
        resolved_at=record.resolved_at,
        resolved_by=record.resolved_by,
        waiting_since=record.waiting_since,
        staff_channel=record.slack_channel if record.slack_ts else None,
        staff_ts=record.slack_ts or None,
        requester_dm_channel=record.requester_dm_channel,
        requester_dm_ts=record.requester_dm_ts,
    )


def escalation_detail(
    session: Session, record: EscalationRecord, *, today: date, describe_principal: PrincipalDescriber
) -> EscalationDetail:
    """The escalation with the related invoice, the account's open invoices and its recent
    payment attempts (the requester's own first)."""
    account = session.get(AccountRecord, record.account_id)
    assert account is not None  # the foreign key cascades: no escalation outlives its account
    related = session.get(InvoiceRecord, record.invoice_id) if record.invoice_id is not None else None
    open_invoices = session.scalars(
        select(InvoiceRecord)
        .where(InvoiceRecord.account_id == account.id, InvoiceRecord.status == "open")
        .order_by(InvoiceRecord.due_on, InvoiceRecord.number)
        .limit(20)
    ).all()
    return EscalationDetail(
        escalation=escalation_view(session, record),
        related_invoice=invoice_view(account, related, today) if related is not None else None,
        open_invoices=tuple(invoice_view(account, invoice, today) for invoice in open_invoices),
        recent_payments=_recent_payments(session, account, record),
        requester_chat_identity=describe_principal(record.requester_principal),
    )


def _recent_payments(session: Session, account: AccountRecord, record: EscalationRecord) -> tuple[PaymentView, ...]:
    mine = or_(
        PaymentRecord.started_by_principal == record.requester_principal,
        PaymentRecord.started_by_email == record.requester_email,
    )
    payments = session.scalars(
        select(PaymentRecord)
        .where(PaymentRecord.account_id == account.id, mine)
        .order_by(PaymentRecord.created_at.desc(), PaymentRecord.id.desc())
        .limit(RECENT_PAYMENTS)
    ).all()
    if not payments:  # raised by the system, or the requester never paid: show the account's
        payments = session.scalars(
            select(PaymentRecord)
            .where(PaymentRecord.account_id == account.id)
            .order_by(PaymentRecord.created_at.desc(), PaymentRecord.id.desc())
            .limit(RECENT_PAYMENTS)
        ).all()
    return payment_views(session, account, payments)
