"""The messaging port for autopay (``billing_core.autopay.notices.ContactMessenger``) on Slack: the
reminder sender's lookup and DM."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from billing_core.autopay.notices import AutopayNotice
from billing_core.errors import ChatRateLimited
from billing_core.messaging import ChatContact, PostedMessage
from handlers.autopay.blocks import autopay_notice_screen
from handlers.kit.blocks import Block

MAX_WAIT_SECONDS = 5.0  # a longer rate limit gives up (the notice is logged as not delivered)


class PostingSender(Protocol):
    def find_contact(self, email: str) -> ChatContact | None: ...

    def post(self, contact: ChatContact, text: str, blocks: list[Block]) -> PostedMessage: ...


class SlackAutopayMessenger:
    """Finds contacts like reminders do (one workspace or every installed one) and DMs notices.

    The reminder sender paces one message a second per channel and raises ``ChatRateLimited``
    rather than wait; a notice is not planned again later, so a short wait is taken here (two
    receipts to one person in one pass are the common case).
    """

    def __init__(self, sender: PostingSender, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sender = sender
        self._sleep = sleep

    def find_contact(self, email: str) -> ChatContact | None:
        return self._sender.find_contact(email)

    def tell(self, contact: ChatContact, message: AutopayNotice) -> PostedMessage:
        screen = autopay_notice_screen(message)
        for _ in range(3):
            try:
                return self._sender.post(contact, screen.text, screen.blocks)
            except ChatRateLimited as limited:
                if limited.retry_after > MAX_WAIT_SECONDS:
                    raise
                self._sleep(limited.retry_after)
        return self._sender.post(contact, screen.text, screen.blocks)
