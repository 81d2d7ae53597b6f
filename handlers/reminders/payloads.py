"""The reminder DM's own button values: "I've already paid" and "Remind me later"."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Self

from pydantic import Field, model_validator

from billing_core.errors import AccountNotFound, InvalidPromiseDate
from billing_core.views import CallerContext
from handlers.kit.payloads import METADATA_LIMIT, AccountId, AccountRef, InvoiceNumber, Payload, SubmittedView

MAX_PAIRS = 50  # a DM names at most 20 invoices; the service refuses more than 50 at once
_SLACK_ID = 64  # a channel id or message ts, as the delivery rows keep them


class InvoiceRef(Payload):
    """ "I've already paid" for one invoice: ``{"account", "invoice"}``."""

    account: AccountId
    invoice: InvoiceNumber

    def suspect(self, error: BaseException) -> str:
        return self.invoice


class SnoozeTarget(Payload):
    """ "Remind me later": one invoice of the DM, ``{"account", "invoice"}``, whatever the DM's length.

    The server snoozes every unpaid invoice of the DM clicked, which it knows from Slack's signed
    request (``clicked_message``), never from the value. DMs sent before this carry the whole
    list, ``{"invoices": [[account, number], ...]}``, which is still honoured as it is.
    """

    account: AccountId | None = None
    invoice: InvoiceNumber | None = None
    invoices: Annotated[list[tuple[AccountId, InvoiceNumber]], Field(min_length=1, max_length=MAX_PAIRS)] | None = None

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        if (self.invoices is None) == (self.account is None or self.invoice is None):
            raise ValueError("one invoice of the DM, or (from an older DM) its whole list")
        return self

    def suspect(self, error: BaseException) -> str:
        if self.invoices is not None:
            return ",".join(number for _, number in self.invoices)[:255]
        return self.invoice or ""


def clicked_message(body: dict[str, Any]) -> tuple[str, str] | None:
    """The (channel, ts) of the message whose button was clicked, from Slack's request."""
    container = body.get("container")
    if not isinstance(container, dict) or container.get("type") != "message":
        return None
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if isinstance(channel, str) and isinstance(ts, str) and 0 < len(channel) <= _SLACK_ID and 0 < len(ts) <= _SLACK_ID:
        return channel, ts
    return None


PROMISE_DATE_BLOCK, PROMISE_DATE_INPUT = "promise_date", "promise_date_picker"


def picked_day(view: SubmittedView) -> date:
    """The day picked in the promise modal; ``InvalidPromiseDate`` when none or not a date."""
    raw = view.state.picked_date(PROMISE_DATE_BLOCK, PROMISE_DATE_INPUT)
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        raise InvalidPromiseDate((raw or "")[:32]) from None


class PromiseSubmission(Payload):
    """ "I'll pay on <date>" submitted: the account it was opened for (our metadata) and the text
    of the day picked (checked by the service, not trusted)."""

    account: AccountId
    picked: str = ""

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        view = SubmittedView.of(body)
        account = AccountRef.decode(view.private_metadata, METADATA_LIMIT).account
        return cls(account=account, picked=(view.state.picked_date(PROMISE_DATE_BLOCK, PROMISE_DATE_INPUT) or "")[:32])

    def day(self) -> date:
        try:
            return date.fromisoformat(self.picked)
        except ValueError:
            raise InvalidPromiseDate(self.picked) from None

    def account_named(self, caller: CallerContext) -> str:
        return self.account

    def suspect(self, error: BaseException) -> str:
        return self.account if isinstance(error, AccountNotFound) else self.picked
