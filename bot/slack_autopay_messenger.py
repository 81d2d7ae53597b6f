"""``billing_core.autopay.notices.ContactMessenger`` on Slack: the reminder sender's lookup and DM."""

from __future__ import annotations

from typing import Protocol

from billing_core.autopay.notices import AutopayNotice
from billing_core.reminders.messages import ChatContact, PostedMessage
from handlers.autopay.notice_blocks import autopay_notice_screen
from handlers.kit.blocks import Block


class PostingSender(Protocol):
    def find_contact(self, email: str) -> ChatContact | None: ...

    def post(self, contact: ChatContact, text: str, blocks: list[Block]) -> PostedMessage: ...


class SlackAutopayMessenger:
    """Finds contacts like reminders do (one workspace or every installed one) and DMs notices."""

    def __init__(self, sender: PostingSender) -> None:
        self._sender = sender

    def find_contact(self, email: str) -> ChatContact | None:
        return self._sender.find_contact(email)

    def send_notice(self, contact: ChatContact, notice: AutopayNotice) -> None:
        screen = autopay_notice_screen(notice)
        self._sender.post(contact, screen.text, screen.blocks)
