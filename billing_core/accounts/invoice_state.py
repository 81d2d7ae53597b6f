"""How an invoice stands at its source, as payments must know before a charge: open, paid
elsewhere, void or uncollectible (closed where it lives: billing_core/sources/closing.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing_core.db.tables import InvoicePaidElsewhereRecord, InvoiceRecord
from billing_core.errors import InvoiceClosedAtSource

PAID_ELSEWHERE = "paid_elsewhere"
VOID = "void"
UNCOLLECTIBLE = "uncollectible"


def closed_state(session: Session, invoice: InvoiceRecord) -> InvoiceClosedAtSource | None:
    """Why ``invoice`` must not be charged, as received from its source; None when it may be."""
    if invoice.status == "open":
        return None
    if invoice.closed_as == PAID_ELSEWHERE:
        record = session.get(InvoicePaidElsewhereRecord, invoice.id)
        return InvoiceClosedAtSource(invoice.number, PAID_ELSEWHERE, record.paid_on if record else None)
    if invoice.status == "void":
        on = invoice.updated_at.date() if invoice.updated_at else None
        return InvoiceClosedAtSource(invoice.number, invoice.closed_as or VOID, on)
    return None
