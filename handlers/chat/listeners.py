"""Chat listeners: a message in the app's DM, an @mention, the assistant panel's thread events.

Each acks at once (Slack wants it within 3 s) and answers in a follow-up. Ignored: messages with
a subtype (edits, deletions, bot messages, joins), from a bot or from the app itself, and a
message seen before (Slack's retries are also dropped by event id in ``bot.web.http``). A message with
a card number gets the card-number warning and nothing else: it is not answered, echoed or logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Assistant, BoltContext
from slack_bolt.context.set_status.set_status import SetStatus
from slack_bolt.context.set_suggested_prompts.set_suggested_prompts import SetSuggestedPrompts
from slack_bolt.context.set_title.set_title import SetTitle
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.card_guard import had_card_number
from billing_core.views import CallerContext
from handlers.chat.answer import Where, answer_text, suggestions
from handlers.chat.blocks import greeting_text
from handlers.chat.replies import DmReply, EphemeralReply, own_dm
from handlers.kit.blocks import message_screen
from handlers.kit.errors import CARD_NUMBER_GUIDANCE, PaymentsUnavailable
from handlers.kit.interaction import Interaction, run_safely
from handlers.kit.surfaces import Surface
from handlers.runtime.follow_up import acked_then
from handlers.runtime.seen_events import SeenEvents

logger = logging.getLogger(__name__)

WORKING = "is looking into it…"
_SEEN = SeenEvents()  # channel:ts of messages taken in (a retry under a new event id is still one message)


def ack_now(ack: Ack) -> None:
    ack()


def _typed(event: dict[str, Any], context: BoltContext) -> bool:
    """A person's new message: no subtype (edit, deletion, bot message…), no bot, not the app."""
    user = event.get("user")
    return (
        not event.get("subtype")
        and not event.get("bot_id")
        and isinstance(user, str)
        and bool(user)
        and user != context.bot_user_id
        and isinstance(event.get("channel"), str)
        and isinstance(event.get("ts"), str)
    )


def _first_time(event: dict[str, Any]) -> bool:
    return _SEEN.claim(f"{event['channel']}:{event['ts']}")


def on_dm_message(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A message typed in the app's DM (or its assistant panel): answered there, in its thread."""
    event = body.get("event") or {}
    if event.get("channel_type") != "im" or not _typed(event, context) or not _first_time(event):
        return
    text, ts = str(event.get("text") or ""), str(event["ts"])
    channel = own_dm(client, str(event["user"]))  # never the event's channel: it may name another's DM
    if channel is None:
        return
    thread_ts = str(event["thread_ts"]) if isinstance(event.get("thread_ts"), str) else None
    if channel != event["channel"]:
        thread_ts = None  # that thread is not in the person's own DM
    reply = DmReply(client, channel, thread_ts)
    if had_card_number(text):
        reply.show(message_screen(CARD_NUMBER_GUIDANCE))
        return
    parent = thread_ts if thread_ts is not None and thread_ts != ts else ""  # a reply in a thread
    if parent:
        _assistant_call(lambda: SetStatus(client, channel, parent)(WORKING))

    def work(ix: Interaction) -> None:
        where = Where()
        if parent and ix.actor is not None:
            where = Where(tuple(ix.services.reminders.invoices_in_reminder(ix.actor, channel, parent)))
        intent = answer_text(ix, text, reply, where)
        if parent and intent is not None and not where.reminder_invoices:
            _assistant_call(lambda: SetTitle(client, channel, parent)(_title(intent)))

    run_safely(body, client, context, work, surface=reply)


def on_mention(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """``@app …`` in a channel: answered to the asker alone (ephemeral), never in the channel."""
    event = body.get("event") or {}
    if not _typed(event, context) or not _first_time(event):
        return
    text, channel, user = str(event.get("text") or ""), str(event["channel"]), str(event["user"])
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    reply = EphemeralReply(client, channel, user, thread_ts)
    if had_card_number(text):
        reply.show(message_screen(CARD_NUMBER_GUIDANCE))
        return

    def work(ix: Interaction) -> None:
        answer_text(ix, text, reply)

    run_safely(body, client, context, work, surface=reply)


def on_thread_started(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A new assistant thread: a greeting and suggested prompts fitting the person's state."""
    event = body.get("event") or {}
    thread = event.get("assistant_thread") if isinstance(event.get("assistant_thread"), dict) else {}
    assert isinstance(thread, dict)
    user, channel, thread_ts = (str(thread.get(key) or "") for key in ("user_id", "channel_id", "thread_ts"))
    if not (user and channel and thread_ts):
        return
    reply = DmReply(client, channel, thread_ts)
    run_safely(
        {**body, "user_id": user},
        client,
        context,
        lambda ix: _greet(ix, client, reply, channel, thread_ts),
        surface=reply,
    )


def _greet(ix: Interaction, client: WebClient, reply: Surface, channel: str, thread_ts: str) -> None:
    caller = ix.caller()
    if caller is None:
        reply.show(ix.refusal())
        prompts = [("What can you do?", "help")]
    else:
        reply.show(message_screen(greeting_text(caller.actor.display_name or "")))
        prompts = [
            (suggestion[:1].upper() + suggestion[1:], suggestion)
            for suggestion in suggestions(
                ix.services.accounts.open_invoices(caller.actor, caller.active.external_id, limit=20)
            )
        ][:2]
        prompts.append(_card_prompt(ix, caller))
        prompts.append(("Payment history", "payment history"))
    suggest = SetSuggestedPrompts(client, channel, thread_ts)
    _assistant_call(lambda: suggest([{"title": t, "message": m} for t, m in prompts], title="Try one of these:"))


def _card_prompt(ix: Interaction, caller: CallerContext) -> tuple[str, str]:
    """ "Add a card" when there is none or one expires within two months, else "My cards"."""
    try:
        cards = ix.payment_methods.list(caller.actor, caller.active.external_id)
    except PaymentsUnavailable:
        return ("My cards", "my cards")
    today = ix.services.clock.now()
    months_now = today.year * 12 + today.month
    if not cards or any(card.exp_year * 12 + card.exp_month - months_now <= 2 for card in cards):
        return ("Add a card", "add a card")
    return ("My cards", "my cards")


def _title(intent: str) -> str:
    return {
        "pay_invoice": "Paying an invoice",
        "pay_balance": "Paying the balance",
        "pay_amount": "Paying",
        "balance": "What I owe",
        "invoices": "Invoices",
        "methods": "Cards",
        "add_card": "Adding a card",
        "history": "Payment history",
        "support": "Billing support",
    }.get(intent, "Billing")


def _assistant_call(call: Callable[[], object]) -> None:
    """An ``assistant.threads.*`` call (Bolt's utilities); outside an assistant thread Slack refuses
    it, which changes nothing for the answer."""
    try:
        call()
    except SlackApiError as error:
        logger.info("assistant.threads call refused: %s", error.response.get("error"))


def register(app: App) -> None:
    """Bolt's ``Assistant`` takes the assistant panel's events (a thread started, its context changed, a
    message in a DM thread; edits and deletions there it acks and drops); the other DM messages and
    mentions are plain event listeners, registered before the app's catch-all ``.*`` one, which would
    swallow them."""
    assistant = Assistant()
    assistant.thread_started(acked_then(ack_now, on_thread_started))
    assistant.thread_context_changed(ack_now)  # the greeting and answers do not depend on the channel viewed
    assistant.user_message(acked_then(ack_now, on_dm_message))
    app.assistant(assistant)
    app.event("message")(acked_then(ack_now, on_dm_message))
    app.event("app_mention")(acked_then(ack_now, on_mention))
