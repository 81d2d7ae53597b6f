"""Slack notifications (a payment's outcome, a card added, a refund or dispute) through the database outbox.

A notification is written to ``billing_outbound_event`` (channel ``slack``) and committed before
anything is sent, then delivered at once on the notifier's pool; if the process stops first, or
Slack is away, ``billing_core.outbound``'s delivery (every ``serve``/``socket`` process) sends it
later with backoff, so a restart loses none. Each attempt claims the row, so the immediate try and
the delivery thread never both send.

Never twice: the client used here has no retry handlers (a POST is never repeated by the HTTP
layer after it may have reached Slack), and the message carries the event id as message
``metadata``. Before posting, the DM's latest messages are read (``conversations.history`` with
``include_all_metadata``, scope ``im:history``); if one already carries this event id, an earlier
attempt got through and its answer was lost, and nothing is posted again.

A payment's receipt remembers where it was posted (``billing_core.payments.dm_threads``); a later
refund or dispute notice about that payment is posted as a reply in that message's thread
(``thread_ts``; its earlier attempts are looked for in the thread's replies), or as a new DM when
no receipt DM is known.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.identity.principal import SlackPrincipal, parse_principal
from billing_core.outbound.delivery import Attempt, OutboundDelivery
from billing_core.outbound.events import record_event
from billing_core.payments.dm_threads import DmThread, PaymentDmThreads
from bot.slack.workspaces import Workspace
from handlers.kit.blocks import Screen
from handlers.kit.surfaces import THREAD_GONE

logger = logging.getLogger(__name__)

SLACK = "slack"
NOTICE = "slack.notice"
METADATA_TYPE = "billing_notice"
HISTORY_LOOKBACK = 20  # messages of the DM (or of the thread) looked at for an earlier attempt's post

ClientFor = Callable[[Workspace], WebClient | None]


class NoticeOutbox:
    """Records a DM for a Slack principal and delivers it (now, and later if need be)."""

    def __init__(self, db: Database, clock: Clock, *, delivery: OutboundDelivery | None = None) -> None:
        self._db = db
        self._clock = clock
        self._delivery = delivery  # the outbound delivery holding the ``slack`` channel

    def record(
        self, principal: str, screen: Screen, *, receipt_of: int | None = None, reply_to: int | None = None
    ) -> str | None:
        """The notice's event id once committed; None when the outbox is not on for Slack.

        ``receipt_of``: the notice is that payment's receipt (where it is posted is remembered);
        ``reply_to``: it is posted in the thread of that payment's receipt DM, when one is known."""
        user = parse_principal(principal)
        data: dict[str, Any] = {"principal": principal, "text": screen.text, "blocks": screen.blocks}
        if receipt_of is not None:
            data["receipt_of"] = receipt_of
        if reply_to is not None:
            data["reply_to"] = reply_to
        with self._db.transaction() as session:
            return record_event(
                session,
                channel=SLACK,
                type=NOTICE,
                subject=f"slack:{user.user_id if user else '?'}"[:64],
                data=data,
                now=self._clock.now(),
            )

    def deliver(self, event_id: str) -> None:
        """Try it now (the row is claimed first; a failure is left to the delivery's retries)."""
        if self._delivery is not None:
            self._delivery.deliver(event_id)


class SlackNoticeChannel:
    """The outbox's ``slack`` channel: DMs a recorded notice once, then refreshes the Home."""

    channel = SLACK
    concurrency = 4

    def __init__(
        self,
        client_for: ClientFor,
        *,
        after: Callable[[WebClient, SlackPrincipal], None] | None = None,
        threads: PaymentDmThreads | None = None,
        timeout: int = 10,
    ) -> None:
        self._client_for = client_for
        self._after = after  # the Home refresh
        self._threads = threads  # each payment's receipt DM, for replies in its thread
        self.timeout = timeout

    def send(self, event_id: str, event_type: str, body: str, now: int) -> Attempt:
        data: dict[str, Any] = json.loads(body)["data"]
        slack = parse_principal(str(data.get("principal") or ""))
        if slack is None:
            return Attempt(ok=True)  # not a Slack user: nothing to send
        installed = self._client_for(Workspace(slack.team_id, slack.enterprise_id))
        if installed is None:
            return Attempt(ok=False, error="no Slack installation for the person's workspace", permanent=True)
        # No retry handlers: a POST that may have reached Slack is never repeated blindly.
        client = WebClient(token=installed.token, base_url=installed.base_url, timeout=self.timeout)
        thread = self._thread(data.get("reply_to"))
        try:
            ts = None
            if thread is not None:
                try:
                    ts = self._posted_before(client, thread.channel, event_id, thread)
                except SlackApiError as error:
                    if error.response.get("error") not in THREAD_GONE:
                        raise
                    thread = None  # the receipt's message is gone: a new DM instead
            channel = thread.channel if thread is not None else self._dm_of(client, slack)
            if thread is None:
                ts = self._posted_before(client, channel, event_id, None)
            if ts is None:
                posted = client.chat_postMessage(
                    channel=channel,
                    text=str(data.get("text") or ""),
                    blocks=data.get("blocks") or [],
                    metadata={"event_type": METADATA_TYPE, "event_payload": {"event_id": event_id}},
                    thread_ts=thread.ts if thread is not None else None,
                )
                ts = str(posted.get("ts") or "")
            self._remember(data, DmThread(str(channel), ts))
        except SlackApiError as error:
            code = str(error.response.get("error") or "error")
            return Attempt(
                ok=False,
                status=error.response.status_code,
                error=code,
                permanent=code in ("user_not_found", "account_inactive", "user_disabled"),
            )
        except OSError as error:
            return Attempt(ok=False, error=type(error).__name__)
        if self._after is not None:
            try:
                self._after(installed, slack)
            except Exception:
                logger.exception("could not refresh the Home after a notice")
        return Attempt(ok=True)

    def _thread(self, payment_id: object) -> DmThread | None:
        """The receipt DM of the payment a follow-up replies to; None (a new DM) when unknown."""
        if self._threads is None or not isinstance(payment_id, int) or isinstance(payment_id, bool):
            return None
        return self._threads.thread_of(payment_id)

    @staticmethod
    def _dm_of(client: WebClient, slack: SlackPrincipal) -> str:
        return str(client.conversations_open(users=slack.user_id)["channel"]["id"])

    def _remember(self, data: dict[str, Any], posted: DmThread) -> None:
        """A payment's receipt: where it went, so its refund or dispute can reply in its thread."""
        payment_id = data.get("receipt_of")
        if self._threads is None or not isinstance(payment_id, int) or not posted.ts:
            return
        try:
            self._threads.remember(payment_id, str(data.get("principal") or ""), posted)
        except Exception:
            logger.exception("could not remember the receipt DM of payment %s", payment_id)

    @staticmethod
    def _posted_before(client: WebClient, channel: str, event_id: str, thread: DmThread | None) -> str | None:
        """The ts of this notice when an earlier attempt posted it (found by its metadata: in the
        DM's latest messages, or in the thread's replies), else None."""
        if thread is None:
            found = client.conversations_history(channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True)
        else:
            found = client.conversations_replies(
                channel=channel, ts=thread.ts, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        for message in found.get("messages") or []:
            metadata = message.get("metadata") if isinstance(message, dict) else None
            payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
            if isinstance(payload, dict) and payload.get("event_id") == event_id:
                logger.info("notice %s was posted by an earlier attempt; not posted again", event_id)
                return str(message.get("ts") or "")
        return None
