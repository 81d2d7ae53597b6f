"""Two-way support threads in Slack (issue 31): staff answer in the thread of a request's post in
``SUPPORT_SLACK_CHANNEL``; the requester reads and answers in one DM thread per request.

Where a message may go, checked on every message:

* Staff side: the message is in the configured support channel, in the workspace that holds it
  (``SUPPORT_SLACK_TEAM``), the channel is private and not shared with another organization, the
  writer is a person (no bot, not the app) and a member of the channel (``conversations.members``),
  and the thread is a request's staff post (stored channel and ts). Anything else reaches nobody.
* Requester side: the message is in the writer's own DM with the app, in the thread whose first
  message is the request's stored DM thread, and the writer is that request's requester and still
  a billing contact of its account (checked in the domain). Anything else reaches nobody.

The app's own messages (its relays included) and other bots' are never relayed, so nothing loops.
Everything relayed is stored and audited by the domain, and e-mailed to billing support as a reply
to the request's e-mail. Files and links pass as links, never as bytes.

Message events in these threads are taken by a middleware before the assistant panel's (which
takes every DM thread message) and the chat listener: acked at once, relayed in a follow-up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.escalations.threads import Link, Relay
from billing_core.escalations.views import EscalationView
from billing_core.identity.principal import parse_principal, principal_for
from handlers.escalations.ids import SUPPORT_REQUESTER_STATE_ACTION, SUPPORT_STATE_ACTION
from handlers.escalations.listeners import (
    STAFF_ONLY,
    SlackStaffChannel,
    staff_refusal,
)
from handlers.escalations.payloads import StateChange
from handlers.escalations.thread_blocks import (
    relayed_to_requester,
    relayed_to_staff,
    requester_thread_root,
    state_notice,
)
from handlers.kit.blocks import Screen
from handlers.kit.errors import MalformedPayload
from handlers.kit.guard import acked
from handlers.kit.interaction import Interaction, run_safely
from handlers.runtime.follow_up import later_of

logger = logging.getLogger(__name__)

_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")
# Messages a person typed: plain, with files, or a thread reply also sent to the channel.
_PERSON_SUBTYPES = (None, "", "file_share", "thread_broadcast")
# Slack's link markup in message text: <https://x|label> or <https://x>.
_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|([^>]*))?>")
NOT_REACHABLE = (
    "{reference}: the requester is not reachable in Slack, so this reply was not sent to them. "
    "It went to billing support's e-mail with the thread; answer them by e-mail."
)


# -- routing: which message events are support-thread messages --------------------------------


def support_thread_middleware(body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]) -> Any:
    """Take message events in a request's staff thread or a requester's DM thread: ack them and
    relay in a follow-up. Every other request goes on to the listeners."""
    event = body.get("event")
    if body.get("type") != "event_callback" or not isinstance(event, dict) or event.get("type") != "message":
        return next()
    try:
        side = _thread_side(event, context)
    except Exception:  # the database unreachable, say: the message is left to the other listeners
        logger.exception("could not tell whether a message is in a support thread")
        side = None
    if side is None:
        return next()
    if side == "edit":
        return BoltResponse(status=200, body="")  # edits in a support thread are not relayed, nor chatted to
    relay = relay_from_staff if side == "staff" else relay_from_requester
    later_of(context).run(relay, body=body, client=context.client, context=context)
    return BoltResponse(status=200, body="")


def _thread_side(event: dict[str, Any], context: BoltContext) -> str | None:
    edited = event.get("message") if event.get("subtype") == "message_changed" else None
    if isinstance(edited, dict):
        side = _thread_side(
            {**edited, "channel": event.get("channel"), "channel_type": event.get("channel_type")}, context
        )
        return "edit" if side is not None else None
    channel, ts, thread_ts = (event.get(key) for key in ("channel", "ts", "thread_ts"))
    if not (isinstance(channel, str) and isinstance(thread_ts, str) and thread_ts and thread_ts != ts):
        return None
    services = context.get("services")
    if services is None:
        return None
    if channel == services.escalations.support_channel:
        return "staff"  # a reply in a thread of the support channel: never answered by the chat
    if event.get("channel_type") == "im" and services.escalations.threads.by_requester_dm(channel, thread_ts):
        return "requester"
    return None


def _typed_by_a_person(event: dict[str, Any], context: BoltContext) -> bool:
    user = event.get("user")
    return (
        event.get("subtype") in _PERSON_SUBTYPES
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and isinstance(user, str)
        and bool(user)
        and user != context.bot_user_id
        and isinstance(event.get("ts"), str)
    )


# -- staff -> requester -------------------------------------------------------------------


def relay_from_staff(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    event = body.get("event") or {}
    if not _typed_by_a_person(event, context):
        return  # the app's own relays and other bots: never relayed back

    def work(ix: Interaction) -> None:
        escalations = ix.services.escalations
        channel, thread_ts = str(event["channel"]), str(event["thread_ts"])
        threads = escalations.threads
        if threads.by_staff_post(channel, thread_ts) is None:
            return  # staff talking in a thread that is no request's post: not for anyone else
        refusal = staff_refusal(ix, client, escalations.support_channel, channel)
        if refusal is not None:
            _audit_refused(ix, "escalation.message", channel, thread_ts, refusal)
            return
        text, links = message_content(event)
        staff = principal_for(ix.team_id, ix.user_id, ix.enterprise_id)
        name = _person_name(client, ix.user_id) if threads.shows_person else ""
        relay = threads.staff_message(
            channel=channel,
            thread_ts=thread_ts,
            ts=str(event["ts"]),
            staff_principal=staff,
            staff_name=name,
            text=text,
            links=links,
        )
        if relay is None or not relay.new:
            return  # a thread that is no request's post reaches nobody; a repeat was relayed once
        escalations.outbox.deliver_thread_message_soon(relay.message.id)
        _to_requester(ix, client, relay, channel, thread_ts)

    run_safely(body, client, context, work, surface=_Quiet())


def _to_requester(ix: Interaction, staff_client: WebClient, relay: Relay, channel: str, thread_ts: str) -> None:
    threads = ix.services.escalations.threads
    view = relay.escalation
    dm = _requester_thread(ix, view)
    if dm is None:
        threads.relayed(relay.message.id, None, None, error="requester not reachable in Slack")
        _ephemeral(staff_client, channel, ix.user_id, NOT_REACHABLE.format(reference=view.reference), thread_ts)
        return
    their_client, dm_channel, root_ts = dm
    text, blocks = relayed_to_requester(view, relay.message)
    try:
        posted = their_client.chat_postMessage(
            channel=dm_channel, thread_ts=root_ts, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as error:
        code = str(error.response.get("error") or "unknown")
        threads.relayed(relay.message.id, dm_channel, None, error=code)
        _ephemeral(staff_client, channel, ix.user_id, NOT_REACHABLE.format(reference=view.reference), thread_ts)
        return
    threads.relayed(relay.message.id, dm_channel, str(posted.get("ts") or ""))


def _requester_thread(ix: Interaction, view: EscalationView) -> tuple[WebClient, str, str] | None:
    """The requester's client and DM thread for ``view``, started (its first message posted and
    stored) when there is none yet; None when the requester is not reachable in Slack."""
    user = _slack_user(view.requester_principal)
    client = ix.deps.client_for_principal(view.requester_principal) if user else None
    if user is None or client is None:
        return None
    if view.requester_dm_channel and view.requester_dm_ts:
        return client, view.requester_dm_channel, view.requester_dm_ts
    try:
        opened = client.conversations_open(users=user)
        channel = str((opened.get("channel") or {}).get("id") or "")
        if not channel:
            return None
        text, blocks = requester_thread_root(view)
        root = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
    except SlackApiError as error:
        logger.warning("could not start %s's DM thread: %s", view.reference, error.response.get("error"))
        return None
    stored = ix.services.escalations.threads.attach_requester_dm(view.reference, channel, str(root.get("ts") or ""))
    if not (stored.requester_dm_channel and stored.requester_dm_ts):
        return None
    return client, stored.requester_dm_channel, stored.requester_dm_ts


# -- requester -> staff -------------------------------------------------------------------


def relay_from_requester(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    event = body.get("event") or {}
    if not _typed_by_a_person(event, context):
        return

    def work(ix: Interaction) -> None:
        channel, thread_ts = str(event["channel"]), str(event["thread_ts"])
        actor = ix.actor
        if actor is None or _own_dm(client, ix.user_id) != channel:
            _audit_refused(ix, "escalation.message", channel, thread_ts, "not the writer's own DM")
            return
        text, links = message_content(event)
        relay = ix.services.escalations.threads.requester_message(
            actor=actor, channel=channel, thread_ts=thread_ts, ts=str(event["ts"]), text=text, links=links
        )
        if relay is None or not relay.new:
            return
        ix.services.escalations.outbox.deliver_thread_message_soon(relay.message.id)
        _to_staff(ix, relay)
        if relay.state_changed:  # no longer waiting on the customer: both messages say so
            redraw(ix, relay.escalation, requester_client=client)

    run_safely(body, client, context, work, surface=_Quiet())


def _to_staff(ix: Interaction, relay: Relay) -> None:
    threads = ix.services.escalations.threads
    view = relay.escalation
    poster = _poster(ix)
    if poster is None or not (view.staff_channel and view.staff_ts):
        threads.relayed(relay.message.id, None, None, error="no staff post to answer in")
        return
    text, blocks = relayed_to_staff(view, relay.message)
    try:
        ts = poster.reply(view.staff_channel, view.staff_ts, text, blocks)
    except (SlackApiError, RuntimeError) as error:
        # RuntimeError: the channel is public or shared now; nothing of the customer goes there.
        reason = str(error.response.get("error")) if isinstance(error, SlackApiError) else str(error)
        logger.warning("%s: the requester's message was not posted to the staff thread: %s", view.reference, reason)
        threads.relayed(relay.message.id, view.staff_channel, None, error=reason[:200])
        return
    threads.relayed(relay.message.id, view.staff_channel, ts)


# -- state buttons ----------------------------------------------------------------------------


def staff_state_clicked(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """ "Waiting on customer", "Back to open" or "Reopen" in the staff post."""

    def work(ix: Interaction) -> None:
        escalations = ix.services.escalations
        channel, _ = _container(body)
        try:
            change = StateChange.read(body)
        except MalformedPayload:
            change = None
        refusal = staff_refusal(ix, client, escalations.support_channel, channel)
        if refusal is not None or change is None:  # a forged or misplaced button: audited, told, no change
            raw = StateChange.raw_reference(body) if change is None else change.reference
            _audit_forgery(ix, raw, channel, refusal or "malformed")
            _ephemeral(client, channel, ix.user_id, refusal or STAFF_ONLY)
            return
        staff = principal_for(ix.team_id, ix.user_id, ix.enterprise_id)
        view = escalations.threads.set_state(change.reference, change.state, principal=staff)
        if not view.requester_dm_ts and _requester_thread(ix, view) is not None:
            view = escalations.get(view.reference)  # the requester's thread, started to tell them
        name = escalations.threads.signature(
            _person_name(client, ix.user_id) if escalations.threads.shows_person else ""
        )
        redraw(ix, view, notice_to_requester=state_notice(view, name))

    run_safely(body, client, context, work, surface=_Quiet())


def requester_state_clicked(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """ "Mark resolved" or "Reopen" in the first message of the requester's DM thread."""

    def work(ix: Interaction) -> None:
        channel, ts = _container(body)
        change = StateChange.read(body)
        actor = ix.actor
        if actor is None:
            _audit_refused(ix, "escalation.state", channel, ts, "no verified e-mail")
            return
        view = ix.services.escalations.threads.set_state_as_requester(
            change.reference, change.state, actor=actor, channel=channel, ts=ts
        )
        name = view.requester_name or view.requester_email
        redraw(ix, view, requester_client=client, notice_to_staff=state_notice(view, f"{name} (the requester)"))

    run_safely(body, client, context, work, surface=_DmNotice(client, body))


def redraw(
    ix: Interaction,
    view: EscalationView,
    *,
    staff_post: bool = True,
    requester_client: WebClient | None = None,
    notice_to_requester: str | None = None,
    notice_to_staff: str | None = None,
) -> None:
    """After a state change: the staff post (unless ``staff_post`` is False: its click redrew it)
    and the requester's first DM message drawn again in place (chat.update), and a line in the
    other side's thread saying who changed it."""
    poster = _poster(ix)
    if staff_post and poster is not None and view.staff_channel and view.staff_ts:
        try:
            poster.update(view.staff_channel, view.staff_ts, view)
            if notice_to_staff:
                poster.reply(view.staff_channel, view.staff_ts, notice_to_staff, [])
        except (SlackApiError, RuntimeError) as error:
            logger.warning("could not redraw %s's staff post: %s", view.reference, type(error).__name__)
    if view.requester_dm_channel and view.requester_dm_ts:
        client = requester_client or ix.deps.client_for_principal(view.requester_principal)
        if client is None:
            return
        text, blocks = requester_thread_root(view)
        try:
            client.chat_update(channel=view.requester_dm_channel, ts=view.requester_dm_ts, text=text, blocks=blocks)
            if notice_to_requester:
                client.chat_postMessage(
                    channel=view.requester_dm_channel, thread_ts=view.requester_dm_ts, text=notice_to_requester
                )
        except SlackApiError as error:
            logger.warning("could not redraw %s's DM thread: %s", view.reference, error.response.get("error"))


# -- helpers ------------------------------------------------------------------------------------


def message_content(event: dict[str, Any]) -> tuple[str, list[Link]]:
    """The text of a message event with Slack's link markup turned into its label, and its files
    and links as links (a file's permalink, never its bytes)."""
    raw = str(event.get("text") or "")
    links: list[Link] = []

    def label(match: re.Match[str]) -> str:
        url, name = match.group(1), match.group(2) or ""
        links.append(Link(url=url, name=name or url))
        return name or url

    text = _LINK.sub(label, raw)
    files = event.get("files") if isinstance(event.get("files"), list) else []
    assert isinstance(files, list)
    for item in files:
        if isinstance(item, dict):
            url = item.get("permalink") or item.get("url_private")
            if isinstance(url, str):
                links.append(Link(url=url, name=str(item.get("name") or item.get("title") or "file")))
    return text, links


def _poster(ix: Interaction) -> SlackStaffChannel | None:
    poster = ix.services.escalations.outbox.staff_channel
    return poster if isinstance(poster, SlackStaffChannel) else None


def _person_name(client: WebClient, user_id: str) -> str:
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError:
        return ""
    profile = user.get("profile") or {}
    return str(profile.get("real_name") or user.get("real_name") or profile.get("display_name") or "")


def _own_dm(client: WebClient, user: str) -> str | None:
    try:
        opened = client.conversations_open(users=user)
    except SlackApiError:
        return None
    return str((opened.get("channel") or {}).get("id") or "") or None


def _slack_user(principal: str) -> str | None:
    parsed = parse_principal(principal)
    return parsed.user_id if parsed and _SLACK_ID.match(parsed.user_id) else None


def _container(body: dict[str, Any]) -> tuple[str, str]:
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
    assert isinstance(container, dict) and isinstance(channel, dict)
    return str(container.get("channel_id") or channel.get("id") or ""), str(container.get("message_ts") or "")


def _audit_refused(ix: Interaction, action: str, channel: str, ts: str, why: str) -> None:
    logger.info("%s refused in %s: %s", action, channel[:64], why)
    try:
        ix.services.audit.record(
            actor=None,
            action=action,
            outcome="refused",
            detail={"slack_user": ix.user_id, "team": ix.team_id, "channel": channel[:64], "ts": ts[:64], "why": why},
        )
    except Exception:
        logger.exception("could not audit a refused support-thread message")


def _audit_forgery(ix: Interaction, reference: str, channel: str, why: str) -> None:
    """A state button clicked outside the staff channel, or by someone who is not staff."""
    try:
        ix.services.audit.record(
            actor=ix.actor,
            action="forgery.refused",
            outcome="refused",
            target=reference[:255] or None,
            detail={"error": "NotBillingStaff", "slack_user": ix.user_id, "channel": channel[:64], "why": why},
        )
    except Exception:
        logger.exception("could not audit a refused state button")


def _ephemeral(client: WebClient, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
    try:
        if thread_ts:
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        else:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as error:
        logger.warning("ephemeral reply failed: %s", error.response.get("error"))


class _Quiet:
    """Failures of a relay are logged, not shown: the writer's message stands in the thread."""

    def show(self, screen: Screen) -> None:
        return None


class _DmNotice:
    """A refused state click is told to the clicker alone (ephemeral), never posted in the DM
    the click names: a forged click must not write into someone else's conversation."""

    def __init__(self, client: WebClient, body: dict[str, Any]) -> None:
        self._client = client
        self._channel, _ = _container(body)
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        self._user = str((user or {}).get("id") or "")

    def show(self, screen: Screen) -> None:
        if self._channel and self._user:
            _ephemeral(self._client, self._channel, self._user, screen.text)


def register(app: App) -> None:
    """The support threads: the message middleware (before the assistant panel's and the chat's
    listeners, which would answer these messages) and the state buttons of both sides."""
    app.middleware(support_thread_middleware)
    app.action(SUPPORT_STATE_ACTION)(acked(staff_state_clicked))
    app.action(SUPPORT_REQUESTER_STATE_ACTION)(acked(requester_state_clicked))
