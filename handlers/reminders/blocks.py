"""The reminder DM: each invoice with Pay and "I've already paid", then snooze and support.

The first reminder DM's introduction and its two ways out ("Not me", "Stop reminders"), and what
the person sees after clicking one (``billing_core.reminders.preferences``).

The reminder DM for someone who has not proven the contact's address yet: no billing details.

Slack's profile e-mail is not proof (an admin of any workspace can set it), so until the person
proves the address with the e-mailed code the DM says only that a reminder is waiting. Once they
prove it, the same DM is rewritten with the invoices (``ReminderService.reveal_withheld``)."""

from __future__ import annotations

from datetime import date, timedelta

from billing_core.reminders.messages import WITHHELD_SETTLED_TEXT, WITHHELD_TEXT, ReminderLine, ReminderMessage
from billing_core.reminders.promises import PROMISE_MAX_DAYS, PromiseView
from billing_core.views import AccountView
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    confirm_dialog,
    context,
    escape,
    escape_line,
    fmt_date,
    message_screen,
    modal,
    pay_label,
    plain,
    section,
    support_button,
)
from handlers.kit.documents import view_invoice_button
from handlers.kit.ids import PAY_OPEN_ACTION, VERIFY_RESEND_ACTION
from handlers.kit.payloads import AccountRef, PayTarget
from handlers.reminders.ids import (
    REMINDER_ALREADY_PAID_ACTION,
    REMINDER_NOT_ME_ACTION,
    REMINDER_PROMISE_MODAL,
    REMINDER_PROMISE_OPEN_ACTION,
    REMINDER_SNOOZE_ACTION,
    REMINDER_STOP_ACTION,
)
from handlers.reminders.payloads import PROMISE_DATE_BLOCK, PROMISE_DATE_INPUT, InvoiceRef, SnoozeTarget


def reminder_blocks(message: ReminderMessage) -> list[Block]:
    """Blocks for a reminder, or for its "Paid, thank you" rewrite once invoices are paid."""
    if message.all_paid:
        return [section(":white_check_mark: *Paid, thank you!*"), *(_paid_line(line) for line in message.lines)]
    blocks: list[Block] = [*introduction_blocks(message), section(f"*{escape(message.headline)}*")]
    for index, line in enumerate(message.lines):
        if line.paid:
            blocks.append(_paid_line(line))
            continue
        if line.autopay_card:
            blocks.append(_autopay_line(line))
            continue
        blocks.append(section(f"{_describe(line)} ({message.when(line)})"))  # the real days: "due in 2 days"
        pay = (
            [
                button(
                    "Pay",
                    PAY_OPEN_ACTION,
                    PayTarget.of(line.account_external_id, line.invoice_number).encode(),
                    style="primary",
                    accessibility_label=pay_label(line.invoice_number, line.amount.format()),
                )
            ]
            if line.amount.amount_minor > 0
            else []
        )  # no Pay for $0.00
        blocks.append(
            actions(
                *pay,
                button(
                    "I've already paid",
                    REMINDER_ALREADY_PAID_ACTION,
                    InvoiceRef(account=line.account_external_id, invoice=line.invoice_number).encode(),
                    accessibility_label=f"I've already paid {line.invoice_number}",
                    confirm=confirm_dialog(
                        "Already paid?",
                        f"We'll tell billing support and pause reminders for {escape_line(line.invoice_number)} "
                        "for 7 days.",
                        "Yes, tell them",
                    ),
                ),
                *_document(line),
                block_id=f"reminder_invoice_{index}",
            )
        )
    unpaid = [line for line in message.lines if not line.paid]
    first = unpaid[0]
    blocks.append(
        actions(
            button("Remind me later", REMINDER_SNOOZE_ACTION, snooze_value(unpaid)),
            promise_button(first.account_external_id),
            support_button(
                first.account_external_id,
                invoice=first.invoice_number if len(unpaid) == 1 else "",
                topic="invoice_question",
            ),
            block_id="reminder_more",
        )
    )
    blocks.append(context("Reminders go out on weekdays between 9:00 and 17:00 your time."))
    blocks.extend(consent_blocks(message))
    return blocks


def _document(line: ReminderLine) -> list[Block]:
    button = view_invoice_button(line.document_url)
    return [button] if button is not None else []


def snooze_value(lines: list[ReminderLine]) -> str:
    """``{"account", "invoice"}`` of the DM's first unpaid invoice: a short reference (the list of
    20 invoices with long ids passed Slack's 2,000 characters); the server reads the DM's other
    invoices and re-checks each against the clicker's accounts."""
    return SnoozeTarget(account=lines[0].account_external_id, invoice=lines[0].invoice_number).encode()


def _describe(line: ReminderLine) -> str:
    return (
        f"*{escape_line(line.invoice_number)}* · {escape_line(line.account_name)}\n"
        f"{line.amount.format()} due {fmt_date(line.due_on)}"
    )


def _autopay_line(line: ReminderLine) -> Block:
    """An autopay invoice before its due date: nothing to click, only when and with which card."""
    return section(
        f":repeat: *{escape_line(line.invoice_number)}* · {escape_line(line.account_name)}\n"
        f"{line.amount.format()} will be charged by autopay on {fmt_date(line.due_on)} "
        f"to {escape_line(line.autopay_card)}. Nothing to do."
    )


def _paid_line(line: ReminderLine) -> Block:
    return section(
        f":white_check_mark: ~{escape_line(line.invoice_number)}~ · {escape_line(line.account_name)} · "
        f"{line.amount.format()}: paid, thank you"
    )


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


# -- promise to pay ---------------------------------------------------------------------------------


def promise_button(account_external_id: str) -> Block:
    """ "I'll pay on…" for the account of the DM's first unpaid invoice (the server checks it is the clicker's)."""
    return button(
        "I'll pay on…",
        REMINDER_PROMISE_OPEN_ACTION,
        AccountRef(account=account_external_id).encode(),
        accessibility_label="Tell us the day you'll pay; reminders pause until then",
    )


def promise_modal(account: AccountView, today: date) -> Block:
    """The modal with a date picker: reminders for ``account`` pause until the day picked."""
    latest = today + timedelta(days=PROMISE_MAX_DAYS)
    picker: Block = {
        "type": "datepicker",
        "action_id": PROMISE_DATE_INPUT,
        "initial_date": (today + timedelta(days=7)).isoformat(),
        "placeholder": plain("Pick a day"),
    }
    blocks: list[Block] = [
        section(
            f"Tell us when you'll pay *{escape_line(account.name)}*'s open invoices "
            f"({account.balance.format()} open). We'll pause reminders until then."
        ),
        {
            "type": "input",
            "block_id": PROMISE_DATE_BLOCK,
            "label": plain("I'll pay on"),
            "hint": plain(f"A day after today, at the latest {fmt_date(latest)}.", 150),
            "element": picker,
        },
        context("If the invoices are still open after that day, reminders start again."),
    ]
    return modal(
        "Promise to pay",
        blocks,
        callback_id=REMINDER_PROMISE_MODAL,
        submit="Pause reminders",
        close="Cancel",
        private_metadata=AccountRef(account=account.external_id).encode(),
    )


def promise_confirmed_screen(promise: PromiseView) -> Screen:
    """What the payer reads (DM) once the promise is stored."""
    return message_screen(
        f"Thanks! You'll pay {promise.account_name} on {fmt_date(promise.promised_on)}, so I've paused "
        f"reminders until then. If the invoices are still open after that day, reminders start again.",
        title="Promise to pay",
    )
