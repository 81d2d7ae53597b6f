"""What an escalation is, as callers see it: topics, references, limits and frozen views."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from billing_core.views import InvoiceView, PaymentView

MAX_MESSAGE_LENGTH = 2000

# Topics a person can pick, in the order they are offered.
USER_TOPICS: dict[str, str] = {
    "payment_plan": "Partial payment or payment plan",
    "billing_contacts": "Update billing contacts",
    "invoice_question": "Question about an invoice",
    "dispute": "Dispute a charge",
    "other": "Something else",
}
# Topics only the system raises (reminders, security checks).
SYSTEM_TOPICS: dict[str, str] = {
    "overdue": "Invoice unpaid 30 days after due",
    "already_paid": "Customer says the invoice is already paid",
    "security": "Possible verification-code guessing",
    "payment_alert": "Payment needs billing staff",
}
TOPICS: dict[str, str] = {**USER_TOPICS, **SYSTEM_TOPICS}
# A request's states in its support thread, as both sides see them.
STATES: dict[str, str] = {"open": "Open", "waiting": "Waiting on customer", "resolved": "Resolved"}

_REFERENCE = re.compile(r"^\s*ESC-?(\d{1,12})\s*$", re.IGNORECASE)


def format_reference(escalation_id: int) -> str:
    """``ESC-000123``: the id zero-padded to six digits (longer ids keep all their digits)."""
    return f"ESC-{escalation_id:06d}"


def parse_reference(reference: str) -> int | None:
    """The id in ``ESC-000123`` (case and the dash optional), or None when it is not one."""
    match = _REFERENCE.match(reference or "")
    return int(match.group(1)) if match else None


def clean_message(text: str) -> str:
    """Normalise line endings, drop control characters (tabs and newlines stay) and trim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return "".join(kept).strip()


@dataclass(frozen=True, slots=True)
class EscalationView:
    """One escalation as its requester and billing staff see it."""

    id: int
    reference: str
    account_external_id: str
    account_name: str
    invoice_number: str | None
    topic: str
    topic_label: str
    message: str
    origin: str  # user / reminder / overdue
    status: str  # open / resolved
    delivery_status: str  # queued / sending / sent / failed
    requester_email: str
    requester_name: str
    requester_principal: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    waiting_since: datetime | None = None  # while it waits on the customer
    staff_channel: str | None = None  # the staff post, once posted
    staff_ts: str | None = None
    requester_dm_channel: str | None = None  # the requester's DM thread, once there is one
    requester_dm_ts: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def state(self) -> str:
        """``open``, ``waiting`` (on the customer) or ``resolved``: what both sides of the thread see."""
        if self.status == "resolved":
            return "resolved"
        return "waiting" if self.waiting_since is not None else "open"

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)


@dataclass(frozen=True, slots=True)
class EscalationDetail:
    """Everything support needs in the e-mail: the escalation plus the account's situation."""

    escalation: EscalationView
    related_invoice: InvoiceView | None
    open_invoices: tuple[InvoiceView, ...]
    recent_payments: tuple[PaymentView, ...]
    requester_chat_identity: str
