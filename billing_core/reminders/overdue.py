"""An invoice still unpaid 30 days after due, once its last reminder has gone, goes to billing support.

Exactly once across processes: the hand-over is claimed like a reminder, as a delivery row with the
reserved step ``ESCALATION_STEP`` under the same unique constraint, before the escalation is made.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from billing_core.db.database import Database
from billing_core.db.tables import ContactRecord, InvoiceRecord, ReminderDeliveryRecord
from billing_core.reminders import claims
from billing_core.reminders.plan import PlanWindow
from billing_core.reminders.schedule import ReminderSchedule
from billing_core.views import Actor

log = logging.getLogger(__name__)

ESCALATION_STEP = 1_000_000  # not a day of any schedule: marks "handed to billing support"
PER_SWEEP = 200
Delivery = ReminderDeliveryRecord


class OverdueEscalator(Protocol):
    """Billing support as reminders need it (``EscalationService`` fits)."""

    def escalate_overdue(self, *, invoice_id: int | None = None) -> Any:
        """Hand an overdue invoice to billing support (idempotent per invoice)."""
        ...

    def report_already_paid(self, actor: Actor, account_external_id: str, invoice_number: str) -> Any:
        """Tell billing support the person says the invoice is paid; returns a view with ``reference``."""
        ...

    def deliver_soon(self, view: Any) -> None:
        """Send that escalation's e-mail now, off the caller's thread (the outbox retries it later)."""
        ...


def escalate_overdue(db: Database, escalator: OverdueEscalator, schedule: ReminderSchedule, window: PlanWindow) -> int:
    """Escalate what is due for it; returns how many invoices were handed over."""
    last = aliased(Delivery)
    mark = aliased(Delivery)
    first_contact = (
        select(func.min(ContactRecord.id)).where(ContactRecord.account_id == InvoiceRecord.account_id).scalar_subquery()
    )
    with db.read() as session:
        rows = session.execute(
            select(InvoiceRecord.id, first_contact)
            .where(
                InvoiceRecord.status == "open",
                InvoiceRecord.due_on <= schedule.escalation_cutoff(window.today),
                exists().where(
                    and_(last.invoice_id == InvoiceRecord.id, last.step == schedule.last_step, last.status == "sent")
                ),
                ~exists().where(
                    and_(
                        mark.invoice_id == InvoiceRecord.id,
                        mark.step == ESCALATION_STEP,
                        mark.status.in_(("sent", "claimed")),
                    )
                ),
            )
            .limit(PER_SWEEP)
        ).all()
    escalated = 0
    for invoice_id, contact_id in rows:
        if contact_id is not None and _escalate_one(db, escalator, window, invoice_id, contact_id):
            escalated += 1
    return escalated


def _escalate_one(
    db: Database, escalator: OverdueEscalator, window: PlanWindow, invoice_id: int, contact_id: int
) -> bool:
    with db.transaction() as session:
        won = claims.insert_ignoring_conflicts(
            session,
            [
                {
                    "invoice_id": invoice_id,
                    "contact_id": contact_id,
                    "step": ESCALATION_STEP,
                    "status": "claimed",
                    "attempts": 1,
                    "claimed_at": window.now,
                }
            ],
        )
        if not won:
            taken = claims.take_over(session, (invoice_id, contact_id, ESCALATION_STEP), window)
            if taken is None:
                return False
            ids = [taken]
        else:
            ids = [won[0][0]]
    try:
        escalator.escalate_overdue(invoice_id=invoice_id)
    except Exception as error:  # keep the sweep going; the claim fails and is retried
        log.exception("overdue escalation failed for invoice id %s", invoice_id)
        claims.mark_failed(db, ids, f"{type(error).__name__}: {error}")
        return False
    claims.mark_sent(db, ids, at=window.now, channel=None, ts=None)
    return True
