"""The reminder DM's own buttons: "Remind me later" and "I've already paid".

Pay (``PAY_OPEN_ACTION``) and Contact billing support (``SUPPORT_OPEN_ACTION``) carry the same
values as everywhere else, so the pay and support flows handle them. Every listener acks at once;
the work runs lazily. The invoices named in a button are untrusted: the reminder service checks
each against the clicker's verified e-mail, and a refusal changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from billing_core.errors import BillingError, InvoiceNotFound
from handlers.kit.blocks import escape, fmt_date, message_screen
from handlers.kit.ids import REMINDER_ALREADY_PAID_ACTION, REMINDER_SNOOZE_ACTION
from handlers.kit.interaction import Interaction, action_value, run_safely
from handlers.runtime.follow_up import acked_then

logger = logging.getLogger(__name__)

MAX_PAIRS = 50


def ack_now(ack: Ack) -> None:
    ack()


def snooze(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    value = action_value(body)
    run_safely(body, client, context, lambda ix: _snooze(ix, value))


def already_paid(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    value = action_value(body)
    run_safely(body, client, context, lambda ix: _already_paid(ix, value))


def _snooze(ix: Interaction, value: dict[str, Any]) -> None:
    actor = ix.actor
    if actor is None:
        ix.surface(new_message=True).show(ix.refusal())
        return
    pairs = invoice_pairs(value.get("invoices"))
    try:
        if not pairs:
            raise InvoiceNotFound("no invoice in the button")
        until = ix.services.reminders.snooze(actor, pairs)
    except BillingError as error:
        ix.record_refusal(error, target=",".join(number for _, number in pairs)[:255])
        raise
    ix.surface(new_message=True).show(
        message_screen(f"OK, I'll remind you again after {_when(until)}.", title="Reminders")
    )


def _already_paid(ix: Interaction, value: dict[str, Any]) -> None:
    actor = ix.actor
    if actor is None:
        ix.surface(new_message=True).show(ix.refusal())
        return
    account, number = value.get("account"), value.get("invoice")
    try:
        if not isinstance(account, str) or not isinstance(number, str):
            raise InvoiceNotFound("no invoice in the button")
        until, reference = ix.services.reminders.already_paid(actor, account, number)
    except BillingError as error:
        ix.record_refusal(error, account=str(account)[:128], target=str(number)[:255])
        raise
    told = f"I've told billing support (reference {reference})" if reference else "Thanks for letting us know"
    ix.surface(new_message=True).show(
        message_screen(
            f"{told}. I won't remind you about {escape(number)} again before {_when(until)}.", title="Reminders"
        )
    )


def invoice_pairs(raw: object) -> list[tuple[str, str]]:
    """``[[account, number], ...]`` from a button value; anything malformed is dropped."""
    if not isinstance(raw, list):
        return []
    pairs = [
        (item[0], item[1])
        for item in raw[:MAX_PAIRS]
        if isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) and part for part in item)
    ]
    return pairs


def _when(moment: datetime) -> str:
    return fmt_date(moment)


def register(app: App) -> None:
    app.action(REMINDER_SNOOZE_ACTION)(acked_then(ack_now, snooze))
    app.action(REMINDER_ALREADY_PAID_ACTION)(acked_then(ack_now, already_paid))
