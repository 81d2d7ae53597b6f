"""A Stripe Billing invoice as the bot needs it (``INVOICE_SOURCE=stripe``), read from a Stripe
object or a webhook event's plain dict. Fields as Stripe's Invoice object documents them
(https://docs.stripe.com/api/invoices/object): ``number``, ``amount_due``/``amount_paid``/
``amount_remaining`` in minor units, ``currency``, ``due_date`` (unix seconds, null for
``charge_automatically``), ``status`` (draft, open, paid, void, uncollectible),
``collection_method``, ``hosted_invoice_url``, ``invoice_pdf``, ``status_transitions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

MAX_DESCRIPTION = 500
MAX_URL = 2000


@dataclass(frozen=True, slots=True)
class BillingInvoice:
    id: str
    customer_id: str
    number: str
    status: str  # draft / open / paid / void / uncollectible
    amount_due_minor: int
    amount_paid_minor: int
    currency: str
    created: datetime
    due_on: date | None
    description: str
    document_url: str | None
    collection_method: str  # charge_automatically / send_invoice
    paid_at: datetime | None = None
    payment_intent_id: str | None = None
    # The customer's e-mail and name as Stripe copied them onto the invoice: a billing contact.
    customer_email: str | None = None
    customer_name: str = ""


def billing_invoice_from(raw: dict[str, Any]) -> BillingInvoice:
    """Parse one invoice; tolerant of what localstripe leaves out (number, due date, links)."""
    transitions = raw.get("status_transitions") or {}
    created = _when(raw.get("created") or raw.get("date")) or datetime.now(UTC)
    due = _when(raw.get("due_date"))
    paid_at = _when(transitions.get("paid_at"))
    intent = _ref(raw.get("payment_intent"))
    customer = _ref(raw.get("customer"))
    amount_due = _minor(raw.get("amount_due"))
    amount_paid = _minor(raw.get("amount_paid"))
    remaining = raw.get("amount_remaining")
    if isinstance(remaining, int) and not isinstance(remaining, bool):
        amount_paid = max(0, amount_due - remaining)
    return BillingInvoice(
        id=str(raw["id"]),
        customer_id=str(customer or ""),
        number=str(raw.get("number") or raw["id"])[:128],
        status=str(raw.get("status") or "draft"),
        amount_due_minor=amount_due,
        amount_paid_minor=min(amount_paid, amount_due),
        currency=str(raw.get("currency") or "").lower(),
        created=created,
        due_on=due.date() if due else None,
        description=_description(raw),
        document_url=_url(raw.get("hosted_invoice_url")) or _url(raw.get("invoice_pdf")),
        collection_method=str(raw.get("collection_method") or "charge_automatically"),
        paid_at=paid_at,
        payment_intent_id=intent,
        customer_email=_text(raw.get("customer_email"), 320) or None,
        customer_name=_text(raw.get("customer_name"), 255),
    )


def _text(value: object, limit: int) -> str:
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


def _ref(value: object) -> str | None:
    """An expandable field: the id, whether Stripe sent the id or the object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _minor(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _when(value: object) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _description(raw: dict[str, Any]) -> str:
    """The invoice's description, else its lines' descriptions joined: one line for Slack."""
    own = raw.get("description")
    if isinstance(own, str) and own.strip():
        text = own
    else:
        lines = (raw.get("lines") or {}).get("data") or []
        parts = [str(line.get("description")) for line in lines if isinstance(line, dict) and line.get("description")]
        text = "; ".join(parts)
    return " ".join(text.split())[:MAX_DESCRIPTION]


def _url(value: object) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= MAX_URL:
        return value if not any(ord(char) < 33 for char in value) else None
    return None
