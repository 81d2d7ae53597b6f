"""The messaging port by principal (``billing_core.notifications.Notifier``) for Slack: tells the
person by DM, off the caller's thread.

Called from the Stripe webhook and the reconcile job, so sending happens on a small pool: a Slack
429 (honoured with ``Retry-After``) never holds up the webhook's answer. With an ``outbox``
(``serve`` and ``socket``) each DM is first committed to the database outbox and sent from there
(``bot.slack.notices``): a restart loses none, and none goes twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_sdk import WebClient

from billing_core.identity.principal import SlackPrincipal, parse_principal
from billing_core.notifications import CardAdded, PaymentFollowUp, PrincipalNotice
from billing_core.payments.dm_threads import PaymentDmThreads
from bot.slack.notices import NoticeOutbox
from bot.slack.workspaces import Workspace
from handlers.kit.blocks import Screen
from handlers.kit.payment_outcome import outcome_screen
from handlers.kit.surfaces import post_dm
from handlers.payments.blocks import card_added_screen

logger = logging.getLogger(__name__)

ClientFor = Callable[[Workspace], WebClient | None]
# Publishes the person's Home tab again (after a DM told them of a payment or a card).
HomeRefresh = Callable[[WebClient, SlackPrincipal], None]


class SlackNotifier:
    """DMs the Slack user behind a Slack principal, through their workspace's installation;
    other principals are skipped."""

    def __init__(
        self,
        client_for: ClientFor,
        *,
        executor: Executor | None = None,
        outbox: NoticeOutbox | None = None,
        refresh_home: HomeRefresh | None = None,
        threads: PaymentDmThreads | None = None,
    ) -> None:
        """``refresh_home``: also refresh the person's Home tab after telling them (the Slack modes).
        ``threads``: each payment's receipt DM, remembered when posted here and replied to by its
        refund or dispute notice (with an ``outbox``, its channel does both)."""
        self._client_for = client_for
        self._executor = executor or ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-notify")
        self._refresh_home = refresh_home
        self._outbox = outbox
        self._threads = threads

    def tell_principal(self, principal: str, message: PrincipalNotice) -> None:
        if isinstance(message, CardAdded):
            self._send(principal, card_added_screen(message.account_name, message.card))
        elif isinstance(message, PaymentFollowUp):
            # A refund or dispute: a reply in the thread of the payment's receipt DM.
            self._send(principal, outcome_screen(message.payment, message.account_name), reply_to=message.payment.id)
        else:
            receipt = message.payment.id if message.payment.status == "succeeded" else None
            self._send(principal, outcome_screen(message.payment, message.account_name), receipt_of=receipt)

    def _send(
        self, principal: str, screen: Screen, *, receipt_of: int | None = None, reply_to: int | None = None
    ) -> None:
        parsed = parse_principal(principal)
        if parsed is None:
            return
        event_id = (
            self._outbox.record(principal, screen, receipt_of=receipt_of, reply_to=reply_to)
            if self._outbox is not None
            else None
        )
        if event_id is not None and self._outbox is not None:
            self._executor.submit(self._outbox.deliver, event_id)
            return
        self._executor.submit(self._deliver, principal, parsed, screen, receipt_of, reply_to)

    def _deliver(
        self, principal: str, slack: SlackPrincipal, screen: Screen, receipt_of: int | None, reply_to: int | None
    ) -> None:
        user_id = slack.user_id
        try:
            workspace = Workspace(slack.team_id, slack.enterprise_id)
            client = self._client_for(workspace)
            if client is None:
                logger.warning("no Slack installation for %s; notification dropped", workspace.key)
                return
            thread = self._threads.thread_of(reply_to) if self._threads is not None and reply_to is not None else None
            posted = post_dm(client, user_id, screen, thread=thread)
            if posted is not None and receipt_of is not None and self._threads is not None:
                self._threads.remember(receipt_of, principal, posted)
            if self._refresh_home is not None:
                self._refresh_home(client, slack)
        except Exception:
            logger.exception("could not notify %s", user_id)

    def shutdown(self) -> None:
        if isinstance(self._executor, ThreadPoolExecutor):
            self._executor.shutdown(wait=True)
