"""The reminder DM for someone who has not proven the contact's address yet: no billing details.

Slack's profile e-mail is not proof (an admin of any workspace can set it), so until the person
proves the address with the e-mailed code the DM says only that a reminder is waiting. Once they
prove it, the same DM is rewritten with the invoices (``ReminderService.reveal_withheld``).
"""

from __future__ import annotations

from billing_core.reminders.messages import WITHHELD_SETTLED_TEXT, WITHHELD_TEXT, ReminderMessage
from handlers.kit.blocks import Block, actions, button, context, escape, section
from handlers.kit.ids import VERIFY_RESEND_ACTION
from handlers.reminders.consent_blocks import consent_blocks, introduction_blocks


def withheld_blocks(message: ReminderMessage) -> list[Block]:
    """Blocks for a withheld reminder: what is waiting and the button that e-mails a code."""
    if message.all_paid:
        return [section(f":white_check_mark: {escape(WITHHELD_SETTLED_TEXT)}")]
    return [
        *introduction_blocks(message),
        section(f":lock: *{escape('You have a billing reminder waiting')}*\n{escape(WITHHELD_TEXT)}"),
        actions(button("Confirm my e-mail", VERIFY_RESEND_ACTION, style="primary")),
        context("We show invoices only to people who have confirmed the billing contact's address."),
        *consent_blocks(message),
    ]
