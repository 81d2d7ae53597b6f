"""The reminder DM: each invoice with Pay and "I've already paid", then snooze and support."""

from __future__ import annotations

from billing_core.reminders.messages import ReminderLine, ReminderMessage
from handlers.kit.blocks import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    escape,
    escape_line,
    fmt_date,
    pay_label,
    section,
    support_button,
)
from handlers.kit.documents import view_invoice_button
from handlers.kit.ids import PAY_OPEN_ACTION, REMINDER_ALREADY_PAID_ACTION, REMINDER_SNOOZE_ACTION
from handlers.kit.payloads import PayTarget
from handlers.reminders.consent_blocks import consent_blocks, introduction_blocks
from handlers.reminders.payloads import InvoiceRef, SnoozeTarget


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
