"""What a payment's state is once Stripe has said more about it: refunded, disputed.

The stored ``status`` stays ``succeeded`` (the charge happened); refunds and disputes are kept
beside it (``refunded_minor``, ``dispute_status``) and the state people see is derived here, the
same in Python (history, DMs, events) and in SQL (the export).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case

from billing_core.db.tables import PaymentRecord

# Stripe's dispute statuses (https://docs.stripe.com/api/disputes/object#dispute_object-status)
# under which the money is, or may be, taken back.
DISPUTED = ("warning_needs_response", "warning_under_review", "needs_response", "under_review", "lost")


def payment_state(status: str, amount_minor: int, refunded_minor: int, dispute_status: str | None) -> str:
    """``status``, or for a succeeded payment: ``disputed``, ``refunded`` or ``partially_refunded``."""
    if status != "succeeded":
        return status
    if dispute_status in DISPUTED:
        return "disputed"
    if refunded_minor >= amount_minor:
        return "refunded"
    return "partially_refunded" if refunded_minor > 0 else status


def payment_state_sql() -> Any:
    """:func:`payment_state` as a SQL expression over ``billing_payment``."""
    succeeded = PaymentRecord.status == "succeeded"
    return case(
        (and_(succeeded, PaymentRecord.dispute_status.in_(DISPUTED)), "disputed"),
        (and_(succeeded, PaymentRecord.refunded_minor >= PaymentRecord.amount_minor), "refunded"),
        (and_(succeeded, PaymentRecord.refunded_minor > 0), "partially_refunded"),
        else_=PaymentRecord.status,
    )
