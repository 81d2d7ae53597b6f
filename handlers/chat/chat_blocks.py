"""What chat answers besides the ``/billing`` screens: one invoice with its Pay button, "which
one?" with buttons, "I didn't catch that" with suggestions, the greeting. Pure builders.

Every button here is one the slash command's screens carry too (Pay, "I've already paid",
Contact billing support), with the same value models, so a click goes through the same guarded
listener; nothing here moves money or changes a card by itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from billing_core.views import InvoiceView
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    confirm_dialog,
    context,
    escape_line,
    message_screen,
    section,
    support_button,
)
from handlers.kit.ids import REMINDER_ALREADY_PAID_ACTION
from handlers.kit.invoice_blocks import invoice_line, invoice_row
from handlers.reminders.payloads import InvoiceRef

NOT_CAUGHT = "Sorry, I didn't catch that."
PRESS_PAY = "Press Pay to choose a card and confirm; nothing is charged before that."

# What people can type, shown by "help" in chat and the console (README "Chat" says the same).
CHAT_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("what do I owe? · what does Acme Labs owe", "the balance and what is due next, for any account of yours"),
    ("show my invoices · what's overdue?", "the open invoices, each with its Pay button"),
    ("when is the november invoice due · what's due next week", "those invoices"),
    (
        "pay INV-1001 · pay the overdue one · pay the $480 invoice",
        "that invoice's Pay button (you confirm in the window it opens)",
    ),
    ("pay everything", "the Pay full balance button"),
    ("can I pay half now? · we paid by wire", "billing support for a partial payment; I've already paid"),
    ("update our billing address · send me a copy of INV-1001", "billing support, or the invoice's link"),
    ("stop sending me reminders · who else gets these?", "how reminders work; the account's contacts"),
    ("my cards · add a card · make the amex the default", "your saved cards and their buttons"),
    ("payment history · receipts", "past payments"),
    ("switch to Globex · which accounts", "your accounts"),
    ("talk to a person", "billing support"),
)


def chat_help_screen() -> Screen:
    """What people can type to the app, with examples."""
    lines = "\n".join(f"• `{escape_line(typed)}`: {meaning}" for typed, meaning in CHAT_EXAMPLES)
    return Screen(
        "You can type to me: what do I owe, show my invoices, pay INV-1001, my cards, receipts, help.",
        [
            section("*You can type to me in plain words*, for example:\n" + lines),
            context("Money moves only when you press Pay and confirm. `/billing help` lists the command words."),
        ],
        title="Help",
    )


def invoice_screen(invoice: InvoiceView, notice: str = "") -> Screen:
    """One invoice with its Pay button (or without, while a payment of it is in progress)."""
    screen = Screen(
        f"{invoice.number}: {invoice.outstanding.format()} due {invoice.due_on.isoformat()}",
        [invoice_row(invoice)],
        title="Invoice",
    )
    return screen.with_notice(notice)


def pay_buttons_screen(invoices: list[InvoiceView], question: str) -> Screen:
    """``question`` ("Which one: …?") and each invoice with its Pay button."""
    blocks: list[Block] = [section(escape_line(question))]
    blocks.extend(invoice_row(invoice) for invoice in invoices[:10])
    blocks.append(context(PRESS_PAY))
    return Screen(question, blocks, title="Pay")


def already_paid_screen(invoices: list[InvoiceView], question: str) -> Screen:
    """Each invoice with the reminder's "I've already paid" button (same value, same listener)."""
    blocks: list[Block] = [section(escape_line(question))]
    for invoice in invoices[:10]:
        ref = InvoiceRef(account=invoice.account_external_id, invoice=invoice.number)
        number = escape_line(invoice.number)
        blocks.append(
            section(
                invoice_line(invoice),
                accessory=button(
                    "I've already paid",
                    REMINDER_ALREADY_PAID_ACTION,
                    ref.encode(),
                    confirm=confirm_dialog(
                        "Already paid?",
                        f"We'll tell billing support and pause reminders for {number} for 7 days.",
                        "Yes, tell them",
                    ),
                ),
            )
        )
    return Screen(question, blocks, title="Already paid")


def reminder_pay_screen(invoices: list[InvoiceView]) -> Screen:
    """The Pay buttons of a reminder's invoices (a "pay it" in its thread)."""
    if len(invoices) == 1:
        return invoice_screen(invoices[0], PRESS_PAY)
    return pay_buttons_screen(invoices, "Which one: " + _either(invoice.number for invoice in invoices) + "?")


def which_one(options: list[str]) -> str:
    """ "Which one: INV-1001 or INV-1002?"."""
    return f"Which one: {_either(options)}?"


def _either(options: Iterable[str]) -> str:
    names = list(options)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def not_caught_screen(suggestions: list[str], *, support_account: str | None) -> Screen:
    """ "I didn't catch that", three things to try, and on a second miss billing support."""
    tries = "\n".join(f"• `{escape_line(suggestion)}`" for suggestion in suggestions[:3])
    blocks: list[Block] = [section(f"{NOT_CAUGHT} You could try:\n{tries}")]
    text = f"{NOT_CAUGHT} Try: " + "; ".join(suggestions[:3])
    if support_account is not None:
        blocks.append(section("Still stuck? Billing support can help."))
        blocks.append(actions(support_button(support_account), block_id="chat_support"))
        text += ". Or contact billing support."
    else:
        blocks.append(context("Type `help` for everything I understand."))
    return Screen(text, blocks, title="Billing")


def greeting_text(name: str) -> str:
    """The assistant thread's greeting, by first name."""
    first = name.split()[0] if name.strip() else ""
    hello = f"Hi {first}!" if first else "Hi!"
    return (
        f"{hello} Ask me about your bills in plain words: what you owe, your invoices, paying one, "
        "your cards or past payments. Money moves only when you press Pay and confirm."
    )


def thanks_screen() -> Screen:
    return message_screen("You're welcome! Type `help` any time to see what I can do.")
