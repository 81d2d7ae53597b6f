"""What a reminder says, and the port through which the domain reaches the chat workspace.

``billing_core`` knows nothing of Slack: it asks a :class:`ReminderSender` to find a person by
e-mail, to send one grouped reminder and to update it later ("Paid, thank you").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from billing_core.errors import ChatDeliveryFailed, ChatRateLimited
from billing_core.money import Money
from billing_core.reminders.schedule import step_label

__all__ = [
    "ChatContact",
    "ChatDeliveryFailed",
    "ChatRateLimited",
    "PostedMessage",
    "ReminderLine",
    "ReminderMessage",
    "ReminderSender",
]


@dataclass(frozen=True, slots=True)
class ChatContact:
    """A billing contact found in a chat workspace, with the time zone their client shows.

    ``workspace`` is where they were found (opaque; empty with one workspace). ``needs_proof``:
    they have not proven that the contact's address is theirs, so a reminder says only that one
    is waiting (no invoice, amount or account) until they do.
    """

    user_id: str
    timezone: str | None
    workspace: str = ""
    needs_proof: bool = False


@dataclass(frozen=True, slots=True)
class ReminderLine:
    """One invoice in a reminder."""

    account_external_id: str
    account_name: str
    invoice_number: str
    amount: Money
    due_on: date
    paid: bool = False
    document_url: str | None = None  # the invoice's PDF or hosted page


@dataclass(frozen=True, slots=True)
class ReminderMessage:
    """One DM: the invoices due to one person at one step of the schedule."""

    step: int
    recipient_name: str
    lines: tuple[ReminderLine, ...]
    withheld: bool = False  # only "a reminder is waiting" until the recipient proves the address

    @property
    def all_paid(self) -> bool:
        return all(line.paid for line in self.lines)

    @property
    def headline(self) -> str:
        if self.all_paid:
            return "Paid, thank you"
        count = len(self.lines)
        noun = "invoice" if count == 1 else f"{count} invoices"
        return f"Reminder: {noun} {step_label(self.step)}"

    def fallback_text(self) -> str:
        """Plain text for notifications and clients that do not render blocks."""
        if self.withheld:
            return WITHHELD_SETTLED_TEXT if self.all_paid else WITHHELD_TEXT
        parts = [
            f"{line.invoice_number} {line.amount.format()} due {line.due_on.isoformat()}"
            + (" (paid, thank you)" if line.paid else "")
            for line in self.lines
        ]
        return f"{self.headline}: " + "; ".join(parts)


WITHHELD_TEXT = (
    "You have a billing reminder waiting. Confirm your e-mail address to see it: "
    "we e-mail you a code when you ask for one."
)
WITHHELD_SETTLED_TEXT = "A billing reminder sent to you here has been settled. Nothing is due from it."


@dataclass(frozen=True, slots=True)
class PostedMessage:
    channel: str
    ts: str
    workspace: str = ""


class ReminderSender(Protocol):
    """The chat workspace as the reminder sweep needs it."""

    def find_contact(self, email: str) -> ChatContact | None:
        """The person with this e-mail, or None when they are not in the workspace (cached)."""
        ...

    def send_reminder(self, contact: ChatContact, message: ReminderMessage) -> PostedMessage:
        """Send one DM. Raises ``ChatRateLimited`` or ``ChatDeliveryFailed``."""
        ...

    def update_reminder(self, posted: PostedMessage, message: ReminderMessage) -> None:
        """Replace a sent DM's content. Raises ``ChatRateLimited`` or ``ChatDeliveryFailed``."""
        ...
