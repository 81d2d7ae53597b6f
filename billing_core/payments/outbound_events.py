"""``payment.succeeded`` / ``payment.failed`` for the vendor's systems, recorded by the settlement
itself (``settlement.py``) so every path that settles a payment (Pay, the webhook, reconcile,
autopay) emits it once, in the settling transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from billing_core.db.tables import PaymentRecord
from billing_core.outbound.events import WEBHOOK, record_event
from billing_core.payments.export import export_row


def record_payment_event(session: Session, payment: PaymentRecord, *, now: datetime) -> None:
    """Queue ``payment.<status>`` with the export's fields as its data (when webhooks are on)."""
    record_event(
        session,
        channel=WEBHOOK,
        type=f"payment.{payment.status}",
        subject=f"payment:{payment.id}",
        data=export_row(session, payment).as_dict(),
        now=now,
    )
