"""The one seam of understanding: a typed text and what the person has in, an intent and its
arguments out. Pure data and a protocol; no Slack, no database.

The listeners and ``handlers.chat.answer`` only ever see ``Understander``; the rule-based one
(``handlers.chat.rules.RuleUnderstander``) is the only implementation today. Another (say, a
language model the vendor runs) can be added behind the same protocol and chosen in
``bot.compose`` without touching the listeners. Whatever understands, the arguments it returns
are checked again against ``Context`` (the person's own values) before anything is shown, and
nothing it returns moves money: a payment still opens ``/billing``'s confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    """One of the person's open invoices as chat may name it."""

    number: str
    account: str  # the account's external id
    issued_on: date
    due_on: date
    amount_minor: int  # what is still owed, in minor units
    currency: str
    description: str = ""
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class CardRef:
    """One saved card of the active account: its id, brand and last four digits."""

    id: str
    brand: str
    last4: str
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class Pending:
    """What the bot asked last: ``kind`` "choices" (which of ``values``?) or "confirm" (this one,
    yes?) for the request ``intent``; or "shown" (``values`` are the invoices it listed)."""

    intent: str
    kind: str
    values: tuple[str, ...] = ()

    def encode(self, limit: int = 255) -> str:
        """A short text form for the store (``|``-separated), at most ``limit`` characters: values
        that do not fit are left out whole, never cut."""
        parts = [self.intent, self.kind]
        for value in self.values:
            if "|" in value or len("|".join([*parts, value])) > limit:
                break
            parts.append(value)
        return "|".join(parts)

    @staticmethod
    def decode(text: str) -> Pending | None:
        parts = text.split("|")
        if len(parts) < 2 or not parts[0] or parts[1] not in ("choices", "confirm", "shown"):
            return None
        return Pending(parts[0], parts[1], tuple(part for part in parts[2:] if part))


@dataclass(frozen=True, slots=True)
class Context:
    """The person's own values a message may name, and the question the bot asked last."""

    today: date
    active: str = ""  # the active account's external id
    accounts: tuple[tuple[str, str], ...] = ()  # (external id, name)
    invoices: tuple[InvoiceRef, ...] = ()  # open invoices of all their accounts, the active one's first
    cards: tuple[CardRef, ...] = ()  # the active account's cards (empty when not needed)
    pending: Pending | None = None
    reminder_invoices: tuple[str, ...] = ()  # the invoices of the reminder the message replies to


@dataclass(frozen=True, slots=True)
class Understanding:
    """An intent and its arguments, each one of the person's own values or empty.

    ``command`` is the ``/billing`` word showing the same screen. ``invoice``/``account``/``card``
    are an invoice number, an account's external id, a card id; ``choices`` several of one kind
    to ask back; ``amount`` minor units as digits; ``detail`` the intent's own word (autopay
    "on"/"off", reminders "stop"/"snooze"/"how", invoices "overdue", a due range
    "YYYY-MM-DD..YYYY-MM-DD"); ``unknown`` what was typed when it names none of theirs.
    """

    intent: str
    command: str = ""
    invoice: str = ""
    account: str = ""
    card: str = ""
    amount: str = ""
    choices: tuple[str, ...] = field(default_factory=tuple)
    detail: str = ""
    unknown: str = ""

    @property
    def argument(self) -> str:
        """The one value ``/billing <command>`` would take, when there is one."""
        return self.invoice or self.card or self.account or self.amount or self.detail


class Understander(Protocol):
    """Text and the person's context in, an understanding out (``None``: not understood)."""

    def understand(self, text: str, context: Context) -> Understanding | None: ...
