"""What a reminder says. The sweep finds a person by e-mail, sends one grouped reminder and updates
it later ("Paid, thank you") through the messaging port (``billing_core.messaging``), as
:data:`ReminderSender`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeAlias

from billing_core.messaging import EditingMessenger
from billing_core.money import Money
from billing_core.reminders.schedule import days_label, step_label

__all__ = [
    "ReminderLine",
    "ReminderMessage",
    "ReminderSender",
]


@dataclass(frozen=True, slots=True)
class ReminderLine:
    """One invoice in a reminder."""

    account_external_id: str
    account_name: str
    invoice_number: str
    amount: Money
    due_on: date
    paid: bool = False
    # Autopay will charge it on its due date to this card ("Visa •••• 4242"); only before it is due.
    autopay_card: str = ""
    document_url: str | None = None  # the invoice's PDF or hosted page


@dataclass(frozen=True, slots=True)
class ReminderMessage:
    """One DM: the invoices due to one person at one step of the schedule.

    ``today`` is the sweep's day in the billing time zone: each invoice then states its real days
    until or after its due date (the step only chose when to send). Without it, the step's words.
    """

    step: int
    recipient_name: str
    lines: tuple[ReminderLine, ...]
    withheld: bool = False  # only "a reminder is waiting" until the recipient proves the address
    today: date | None = None
    # The contact's first DM: it says who the bot is and why they hear from it, with "Not me" and
    # "Stop reminders" (billing_core.reminders.preferences).
    introduce: bool = False
    # The delivery rows the DM covers: its stable identity (carried by the post), the same when a
    # later attempt takes the claims over.
    deliveries: tuple[int, ...] = ()
    # An earlier attempt may have posted it (its claims were taken over from a process that stopped
    # between sending and recording, or after a post that may have gone through): the sender looks
    # for it in the person's chat first and, when found, answers with it instead of posting again.
    unconfirmed: bool = False

    @property
    def all_paid(self) -> bool:
        return all(line.paid for line in self.lines)

    def when(self, line: ReminderLine) -> str:
        """How far ``line``'s due date is: "due in 2 days", "due today", "18 days overdue"."""
        return step_label(self.step) if self.today is None else days_label(line.due_on, self.today)

    @property
    def headline(self) -> str:
        if self.all_paid:
            return "Paid, thank you"
        unpaid = [line for line in self.lines if not line.paid]
        count = len(unpaid)
        noun = "invoice" if count == 1 else f"{count} invoices"
        return f"Reminder: {noun} {self.when_all()}"

    def when_all(self) -> str:
        """What is true of every unpaid invoice: their shared "due in 7 days", else "due",
        "overdue" or "due or overdue"."""
        unpaid = [line for line in self.lines if not line.paid]
        said = {self.when(line) for line in unpaid}
        if len(said) == 1:
            return said.pop()
        late = {self.today is not None and line.due_on < self.today for line in unpaid}
        if late == {True}:
            return "overdue"
        return "due" if late == {False} else "due or overdue"

    def fallback_text(self) -> str:
        """Plain text for notifications and clients that do not render blocks."""
        if self.withheld:
            return WITHHELD_SETTLED_TEXT if self.all_paid else WITHHELD_TEXT
        parts = [
            (
                autopay_text(line)
                if line.autopay_card and not line.paid
                else f"{line.invoice_number} {line.amount.format()} due {line.due_on.isoformat()}"
                + (" (paid, thank you)" if line.paid else f" ({self.when(line)})")
            )
            for line in self.lines
        ]
        return f"{self.headline}: " + "; ".join(parts)


def autopay_text(line: ReminderLine) -> str:
    """An autopay invoice before its due date: when and with which card it will be charged."""
    return (
        f"{line.invoice_number} {line.amount.format()} will be charged by autopay on "
        f"{line.due_on.isoformat()} to {line.autopay_card}"
    )


WITHHELD_TEXT = (
    "You have a billing reminder waiting. Confirm your e-mail address to see it: "
    "we e-mail you a code when you ask for one."
)
WITHHELD_SETTLED_TEXT = "A billing reminder sent to you here has been settled. Nothing is due from it."


# The messaging port as reminders need it: a reminder is sent to a contact, then edited.
ReminderSender: TypeAlias = EditingMessenger[ReminderMessage]
