"""Chat listeners: a message in the app's DM, an @mention, the assistant panel's thread events.

Each acks at once (Slack wants it within 3 s) and answers in a follow-up. Ignored: deletions, bot
messages, joins and other subtypes, messages from a bot or from the app itself, and a message seen
before (Slack's retries are also dropped by event id in ``bot.web.http``). Each DM message is
recorded as answered where every replica sees it (``billing_core.chat_answers``), so an edit
(``message_changed``) is answered only when the message it edits never got a reply, and then once.
A message with files is offered to billing support (``handlers.escalations``). A message with a
card number gets the card-number warning and nothing else: it is not answered, echoed or logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Assistant, BoltContext, BoltRequest, BoltResponse
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
from handlers.escalations.blocks import file_offer_screen
from handlers.escalations.payloads import offered_files
from handlers.kit.blocks import message_screen
from handlers.kit.errors import CARD_NUMBER_GUIDANCE, PaymentsUnavailable
from handlers.kit.interaction import Interaction, deps_of, run_safely
from handlers.kit.surfaces import Surface
from handlers.runtime.follow_up import acked_then
from handlers.runtime.seen_events import SeenEvents

logger = logging.getLogger(__name__)

WORKING = "is looking into it…"
_SEEN = SeenEvents()  # channel:ts of messages taken in (a retry under a new event id is still one message)


def ack_now(ack: Ack) -> None:
    ack()


@dataclass(frozen=True, slots=True)
class Written:
    """A person's message to the app, as chat reads it: a new one, or the new version of one edited."""

    user: str
    channel: str
    ts: str  # the message's own ts (for an edit, the original's: the same message)
    text: str
    thread_ts: str | None
    files: tuple[dict[str, Any], ...]
    edit: bool


def _written(event: dict[str, Any], context: BoltContext) -> Written | None:
    """A person's message (text, files or both), or the new version of one they edited; None for
    anything else: deletions, joins, bot messages, the app's own, an edit by someone else."""
    subtype, edit = event.get("subtype"), False
    message: dict[str, Any] = event
    if subtype == "message_changed":
        changed = event.get("message")
        if not isinstance(changed, dict):
            return None
        edited = changed.get("edited")
        if isinstance(edited, dict) and edited.get("user") not in (None, changed.get("user")):
            return None
        message, edit, subtype = changed, True, changed.get("subtype")
    if subtype not in (None, "file_share"):
        return None
    user, channel, ts = message.get("user"), event.get("channel"), message.get("ts")
    if message.get("bot_id") or not isinstance(user, str) or not user or user == context.bot_user_id:
        return None
    if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts):
        return None
    files = message.get("files")
    thread_ts = message.get("thread_ts")
    return Written(
        user=user,
        channel=channel,
        ts=ts,
        text=str(message.get("text") or ""),
        thread_ts=thread_ts if isinstance(thread_ts, str) and thread_ts else None,
        files=tuple(f for f in files if isinstance(f, dict)) if isinstance(files, list) else (),
        edit=edit,
    )


def _first_time(message: Written) -> bool:
    return _SEEN.claim(f"{message.channel}:{message.ts}")


def _answered_once(body: dict[str, Any], context: BoltContext, message: Written) -> bool:
    """Claim the DM message where every replica sees it (``billing_core.chat_answers``): true once
    per message, whether its first delivery, Slack's retry, or an edit of one never answered."""
    team = str(context.team_id or body.get("team_id") or "")
    try:
        return deps_of(context).services.chat_answers.claim(team, message.channel, message.ts, edit=message.edit)
    except Exception:
        logger.exception("could not record a chat message as answered")
        return not message.edit  # a new message is still answered; an edit only when known unanswered


def on_dm_message(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A message typed in the app's DM (or its assistant panel): answered there, in its thread.
    An edit is answered only when the message it edits never was (then once)."""
    event = body.get("event") or {}
    message = _written(event, context) if event.get("channel_type") == "im" else None
    if message is None or not _first_time(message) or not _answered_once(body, context, message):
        return
    text, ts = message.text, message.ts
    channel = own_dm(client, message.user)  # never the event's channel: it may name another's DM
    if channel is None:
        return
    thread_ts = message.thread_ts
    if channel != message.channel:
        thread_ts = None  # that thread is not in the person's own DM
    reply = DmReply(client, channel, thread_ts)
    if had_card_number(text):
        reply.show(message_screen(CARD_NUMBER_GUIDANCE))
        return
    if message.files:
        run_safely(body, client, context, lambda ix: _offer_files(ix, message, reply), surface=reply)
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
    message = _written(event, context) if not event.get("subtype") else None
    if message is None or not _first_time(message):
        return
    text, channel, user = message.text, message.channel, message.user
    reply = EphemeralReply(client, channel, user, message.thread_ts)
    if had_card_number(text):
        reply.show(message_screen(CARD_NUMBER_GUIDANCE))
        return
    if message.files:  # offered to the sender alone: the account's name is not for the channel
        run_safely(body, client, context, lambda ix: _offer_files(ix, message, reply), surface=reply)
        return

    def work(ix: Interaction) -> None:
        answer_text(ix, text, reply)

    run_safely(body, client, context, work, surface=reply)


def _offer_files(ix: Interaction, message: Written, reply: Surface) -> None:
    """A file sent to the app: offered to billing support for the active account (a verified
    contact only; anyone else gets the refusal). The file itself is never downloaded."""
    caller = ix.contact()
    offer = offered_files(caller.active.external_id, message.files, _without_mention(message.text))
    if offer is None:  # files Slack described with nothing to name them by
        answer_text(ix, message.text, reply)
        return
    reply.show(file_offer_screen(caller.active, offer))


def _without_mention(text: str) -> str:
    return re.sub(r"<@[A-Z0-9]+>", "", text).strip()


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


# The only events Bolt's ``Assistant`` takes (its listeners' matchers and its drop of other DM
# thread sub-events all need one of these types, in an ``event_callback``).
_ASSISTANT_EVENTS = frozenset({"assistant_thread_started", "assistant_thread_context_changed", "message"})


class _Assistant(Assistant):
    """Bolt's ``Assistant``, except that an edit in a DM thread goes on to the ``message`` listener
    (Bolt's acks and drops it), which answers it when the message edited never got a reply; and
    every other request (a command, a click, a Home open) goes straight on, without running its
    listeners' matchers, none of which could match it."""

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        event = req.body.get("event")
        kind = event.get("type") if isinstance(event, dict) else None
        if kind not in _ASSISTANT_EVENTS:
            return next()
        if kind == "message" and isinstance(event, dict) and event.get("subtype") == "message_changed":
            return next()
        return super().process(req=req, resp=resp, next=next)


def register(app: App) -> None:
    """Bolt's ``Assistant`` takes the assistant panel's events (a thread started, its context changed, a
    message in a DM thread; deletions there it acks and drops); the other DM messages, every edit
    and mentions are plain event listeners, registered before the app's catch-all ``.*`` one, which
    would swallow them."""
    assistant = _Assistant()
    assistant.thread_started(acked_then(ack_now, on_thread_started))
    assistant.thread_context_changed(ack_now)  # the greeting and answers do not depend on the channel viewed
    assistant.user_message(acked_then(ack_now, on_dm_message))
    app.assistant(assistant)
    app.event("message")(acked_then(ack_now, on_dm_message))
    app.event("app_mention")(acked_then(ack_now, on_mention))
