"""The messaging port: "tell this person", the one way the domain reaches people in the chat workspace.

``billing_core`` knows nothing of Slack. It finds a contact by e-mail (:class:`ChatContact`) and
tells them a message, or tells the person behind a principal (``slack:T:U``) a message; each use
says which messages it sends by the port's type parameter:

- reminders: ``EditingMessenger[ReminderMessage]`` (a reminder is edited later: "Paid, thank you");
- autopay: ``Messenger[AutopayNotice]`` (turned on or off, receipts, declines, expiring cards);
- payments: ``PrincipalMessenger[PrincipalNotice]`` (a card added, a payment settled later).

The bot implements it and draws each message (``bot.slack``). A message a port is given is a
domain value; the words and Block Kit of each are the handlers' (``handlers.*.blocks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from billing_core.background import Pool

__all__ = [
    "Batching",
    "ChatContact",
    "Contacts",
    "EditingMessenger",
    "Messenger",
    "Pipelining",
    "PostedMessage",
    "PrincipalMessenger",
]

M = TypeVar("M", contravariant=True)


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
class PostedMessage:
    """A message that was sent: where it is, so it can be edited."""

    channel: str
    ts: str
    workspace: str = ""


class Contacts(Protocol):
    def find_contact(self, email: str) -> ChatContact | None:
        """The person with this e-mail, or None when they are not in the workspace (cached)."""
        ...


class Messenger(Contacts, Protocol[M]):
    """Find a contact by e-mail and tell them a message of type ``M``."""

    def tell(self, contact: ChatContact, message: M) -> PostedMessage:
        """Send one DM. Raises ``ChatRateLimited`` or ``ChatDeliveryFailed``."""
        ...


class EditingMessenger(Messenger[M], Protocol[M]):
    """A messenger whose messages can be replaced after they were sent."""

    def update(self, posted: PostedMessage, message: M) -> None:
        """Replace a sent DM's content. Raises ``ChatRateLimited`` or ``ChatDeliveryFailed``."""
        ...


class PrincipalMessenger(Protocol[M]):
    """Tell the person behind a principal (``slack:T:U``) a message of type ``M``; other principals
    are skipped. It never raises: the message is sent off the caller's thread."""

    def tell_principal(self, principal: str, message: M) -> None: ...


@runtime_checkable
class Batching(Protocol):
    """A messenger that can be told many sends are coming (a reminder sweep): inside ``batch()`` it
    may keep what it takes for them (the bot: each chat workspace's lease, so one process sends
    there at a time) until the batch ends; outside a batch it gives it back after each send."""

    def batch(self) -> AbstractContextManager[None]: ...


@runtime_checkable
class Pipelining(Protocol):
    """A messenger that takes a sweep's work many people at a time: ``prepare`` names the next
    people the sweep will look for (it may read where they are all at once), and up to
    ``concurrent_sends`` of its ``find_contact`` and ``tell`` may run at once on different threads
    (it keeps each chat workspace's calls one at a time, so that workspace's limits stay exact)."""

    concurrent_sends: int

    def prepare(self, emails: Sequence[str]) -> None: ...

    def pool(self) -> AbstractContextManager[Pool]:
        """``concurrent_sends`` threads for one sweep, released when it ends."""
        ...
