"""Autopay's DMs wait out Slack's one-message-a-second pace instead of dropping the second one."""

from __future__ import annotations

from billing_core.autopay.notices import AutopayNotice
from billing_core.errors import ChatRateLimited
from billing_core.messaging import ChatContact, PostedMessage
from bot.slack.autopay_messenger import SlackAutopayMessenger
from handlers.kit.blocks import Block


class PacedSender:
    def __init__(self) -> None:
        self.posted: list[str] = []
        self.limited = 1

    def find_contact(self, email: str) -> ChatContact | None:
        return ChatContact(user_id="U1", timezone=None)

    def post(self, contact: ChatContact, text: str, blocks: list[Block]) -> PostedMessage:
        if self.limited:
            self.limited -= 1
            raise ChatRateLimited(1.0)
        self.posted.append(text)
        return PostedMessage("D1", "1.0")


def test_a_notice_sent_right_after_another_waits_for_slacks_pace_and_is_delivered() -> None:
    sender = PacedSender()
    waited: list[float] = []
    messenger = SlackAutopayMessenger(sender, sleep=waited.append)
    notice = AutopayNotice(kind="turned_off", account_external_id="acme", account_name="Acme Corp")

    messenger.tell(ChatContact(user_id="U1", timezone=None), notice)

    assert waited == [1.0]
    assert sender.posted == ["Autopay is off for Acme Corp: invoices will no longer be charged automatically."]
