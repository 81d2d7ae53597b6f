"""The first reminder DM's introduction and its two ways out ("Not me", "Stop reminders"), and what
the person sees after clicking one (``billing_core.reminders.preferences``)."""

from __future__ import annotations

from billing_core.reminders.messages import ReminderMessage
from handlers.kit.blocks import Block, actions, button, confirm_dialog, context, escape_line, section
from handlers.kit.ids import REMINDER_NOT_ME_ACTION, REMINDER_STOP_ACTION

INTRO_BLOCK_ID = "reminder_consent"


def introduction_blocks(message: ReminderMessage) -> list[Block]:
    """Who the bot is and why it writes, at the top of the contact's first DM; empty otherwise.

    A withheld DM (address not proven yet) names no account: that is a billing detail too.
    """
    if not message.introduce or message.all_paid:
        return []
    accounts = sorted({line.account_name for line in message.lines})
    why = (
        "your e-mail address is listed as a billing contact with us"
        if message.withheld
        else f"your e-mail address is listed as a billing contact of {', '.join(escape_line(a) for a in accounts)}"
    )
    return [
        section(
            ":wave: Hi! I'm the billing assistant. You're getting this message because "
            f"{why}. I send reminders before and after invoices are due, and you can pay them right here."
        )
    ]


def consent_blocks(message: ReminderMessage) -> list[Block]:
    """The ways out, at the bottom of the contact's first DM (after its own buttons); empty otherwise."""
    if not message.introduce or message.all_paid:
        return []
    return [
        actions(
            button(
                "Not me",
                REMINDER_NOT_ME_ACTION,
                confirm=confirm_dialog(
                    "Not the billing contact?",
                    "We'll stop messaging you about these invoices and tell our billing team to correct the contact.",
                    "Yes, not me",
                ),
            ),
            button("Stop reminders", REMINDER_STOP_ACTION),
            block_id=INTRO_BLOCK_ID,
        ),
        context("You can turn reminders back on from my Home tab. Receipts for payments you make still reach you."),
    ]


def stopped_text(account_names: tuple[str, ...]) -> str:
    return (
        f"OK, no more reminders about {', '.join(account_names)}. You can turn them back on from my Home tab. "
        "Receipts for payments you make still reach you."
    )


def not_me_text(reference: str | None) -> str:
    told = f"I've told our billing team (reference {reference})" if reference else "I've told our billing team"
    return f"Thanks for letting us know. {told}, and I won't message you about these invoices again."
