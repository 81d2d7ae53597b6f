"""Everything known about one payment, for an operator (``billing-bot payments show``): the stored
record, what Stripe says about its PaymentIntent now, and what was sent out about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord, PaymentRecord
from billing_core.errors import PaymentNotFound
from billing_core.payments.export import ExportRow, export_row
from billing_core.payments.ports import PaymentGateway


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbound event about the payment (webhook event or receipt e-mail) and how it went."""

    event_id: str
    type: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class PaymentDossier:
    row: ExportRow
    card: str
    failure_reason: str | None
    submitted_at: datetime | None
    idempotency_key: str
    receipt_url: str | None
    stripe_status: str  # the PaymentIntent's status now, or why it is not known
    deliveries: tuple[Delivery, ...]


class PaymentInspection:
    """Reads one payment and its surroundings; asks Stripe when a gateway is given."""

    def __init__(self, db: Database, gateway: PaymentGateway | None) -> None:
        self._db = db
        self._gateway = gateway

    def show(self, payment_id: int) -> PaymentDossier:
        with self._db.read() as session:
            payment = session.get(PaymentRecord, payment_id)
            if payment is None:
                raise PaymentNotFound(str(payment_id))
            row = export_row(session, payment)
            events = session.scalars(
                select(OutboundEventRecord)
                .where(OutboundEventRecord.subject == f"payment:{payment_id}")
                .order_by(OutboundEventRecord.created_at, OutboundEventRecord.id)
            ).all()
            deliveries = tuple(
                Delivery(
                    e.id,
                    e.type,
                    e.channel,
                    e.status,
                    e.attempts,
                    e.created_at,
                    e.delivered_at,
                    e.next_attempt_at,
                    e.last_status,
                    e.last_error,
                )
                for e in events
            )
            card = f"{payment.card_brand or 'card'} {payment.card_last4 or '????'}"
            failure, submitted, key, receipt = (
                payment.failure_reason,
                payment.submitted_at,
                payment.idempotency_key,
                payment.receipt_url,
            )
        return PaymentDossier(row, card, failure, submitted, key, receipt, self._stripe_status(row), deliveries)

    def _stripe_status(self, row: ExportRow) -> str:
        if not row.stripe_payment_intent_id:
            return "no PaymentIntent recorded"
        if self._gateway is None:
            return "not asked (STRIPE_API_KEY is not set)"
        try:
            intent = self._gateway.retrieve_intent(row.stripe_payment_intent_id)
        except Exception as error:  # an operator's look-up: say why, never fail the whole command
            return f"unknown ({type(error).__name__})"
        return intent.status
