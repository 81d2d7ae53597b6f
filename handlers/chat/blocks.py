"""What chat answers besides the ``/billing`` screens: one invoice with its Pay button, "which
one?" with buttons, "I didn't catch that" with suggestions, the greeting. Pure builders.

Every button here is one the slash command's screens carry too (Pay, "I've already paid",
Contact billing support), with the same value models, so a click goes through the same guarded
listener; nothing here moves money or changes a card by itself.

Chat's answers to requests ``/billing`` has no word for: a partial payment, a contact change, a
copy of an invoice, reminders, who the contacts are, what is due in a range. Pure builders.

The only buttons are ones other screens carry too (Contact billing support with its topic, the
reminder's "Remind me later", Pay, View invoice), so a click goes through the same guarded listener."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from billing_core.views import AccountView, InvoiceView
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    confirm_dialog,
    context,
    escape_line,
    fmt_date,
    fmt_money,
    message_screen,
    possessive,
    section,
    support_button,
)
from handlers.kit.documents import view_invoice_button
from handlers.kit.invoice_blocks import invoice_line, invoice_row
from handlers.reminders.ids import REMINDER_ALREADY_PAID_ACTION, REMINDER_SNOOZE_ACTION
from handlers.reminders.payloads import InvoiceRef, SnoozeTarget

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


PARTIAL_TOPIC = "payment_plan"


CONTACTS_TOPIC = "billing_contacts"


INVOICE_TOPIC = "invoice_question"


def partial_payment_screen(account: str, invoice: InvoiceView | None, amount: str) -> Screen:
    """Only whole invoices or the whole balance are paid here; billing support, with the amount
    and the invoice filled in, for anything else."""
    about = f" toward {invoice.number}" if invoice is not None else ""
    wish = (
        f"I'd like to pay {amount}{about}."
        if amount
        else (
            f"I'd like to pay {invoice.number} in part or in instalments."
            if invoice is not None
            else "I'd like to pay in part or in instalments."
        )
    )
    blocks: list[Block] = [
        section(
            "I can only pay a whole invoice or the full open balance here. For a partial payment or a "
            "payment plan, billing support can help: the request below says what you asked."
        ),
        actions(
            support_button(
                account,
                invoice=invoice.number if invoice else "",
                topic=PARTIAL_TOPIC,
                text="Ask billing support",
                message=wish,
            ),
            block_id="chat_partial",
        ),
    ]
    return Screen("Only whole invoices or the full balance can be paid here.", blocks, title="Partial payment")


def contact_change_screen(account: AccountView) -> Screen:
    """Contacts, the billing address, tax ID or PO number: changed by billing support."""
    blocks: list[Block] = [
        section(
            f"Changes to {escape_line(possessive(account.name))} billing contacts, billing address, tax ID or "
            "PO number are made by billing support. Send them the change and they will take care of it."
        ),
        actions(
            support_button(account.external_id, topic=CONTACTS_TOPIC, text="Ask billing support"),
            block_id="chat_contact_change",
        ),
    ]
    return Screen("Billing support makes contact and address changes.", blocks, title="Billing contacts")


def copy_screen(invoice: InvoiceView) -> Screen:
    """The invoice's document link, or "no copy here" and billing support."""
    link = view_invoice_button(invoice.document_url)
    if link is not None:
        return Screen(
            f"The copy of {invoice.number}.",
            [
                section(
                    f"Here is {escape_line(invoice.number)} ({fmt_money(invoice.outstanding)}, due "
                    f"{fmt_date(invoice.due_on)}):"
                ),
                actions(link, block_id="chat_copy"),
            ],
            title="Invoice copy",
        )
    return Screen(
        f"No copy of {invoice.number} here.",
        [
            section(f"I have no copy of {escape_line(invoice.number)} to send here. Billing support can send you one."),
            actions(
                support_button(
                    invoice.account_external_id,
                    invoice=invoice.number,
                    topic=INVOICE_TOPIC,
                    text="Ask for a copy",
                    message=f"Please send me a copy of {invoice.number}.",
                ),
                block_id="chat_copy",
            ),
        ],
        title="Invoice copy",
    )


def reminders_screen(detail: str, steps: Sequence[int], account: str, snooze: Sequence[InvoiceView]) -> Screen:
    """How reminders work today, and for "remind me later" the same button the reminder carries.

    Reminder preferences (how often, to whom) are not settable yet; when they are, their screen
    belongs here, in place of the line that sends the person to billing support.
    """
    blocks: list[Block] = []
    if detail == "snooze" and snooze:
        blocks.append(section("Press *Remind me later* to pause reminders about an invoice for 3 days:"))
        for invoice in snooze[:10]:
            target = SnoozeTarget(account=invoice.account_external_id, invoice=invoice.number)
            blocks.append(
                section(
                    f"{escape_line(invoice.number)} · {fmt_money(invoice.outstanding)} · due "
                    f"{fmt_date(invoice.due_on)}",
                    accessory=button("Remind me later", REMINDER_SNOOZE_ACTION, target.encode()),
                )
            )
    elif detail == "snooze":
        blocks.append(section("You have no open invoices to be reminded about."))
    blocks.append(
        section(
            f"*How reminders work:* {schedule_text(steps)} They come by DM on weekdays in your "
            "working hours. On a reminder, *Remind me later* pauses them for 3 days and *I've "
            "already paid* for 7 days for that invoice."
        )
    )
    if detail in ("stop", "how"):
        blocks.append(
            section(
                "Reminders can't be switched off or sent to someone else from here yet; billing "
                "support can change who gets them."
            )
        )
        blocks.append(
            actions(
                support_button(account, topic=CONTACTS_TOPIC, text="Ask billing support"), block_id="chat_reminders"
            )
        )
    return Screen("How reminders work.", blocks, title="Reminders")


def schedule_text(steps: Sequence[int]) -> str:
    """ "Reminders come 7 days before, on the due date and 3, 7 and 14 days after."."""
    parts = [f"{-s} days before" if s < -1 else "the day before" for s in steps if s < 0]
    if 0 in steps:
        parts.append("on the due date")
    after = [str(s) for s in steps if s > 0]
    if after:
        parts.append(_and(after) + (" day after" if after == ["1"] else " days after"))
    return f"Reminders come {_and(parts) or 'around the due date'}."


def _and(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def contacts_screen(account: AccountView, contacts: Sequence[tuple[str, str]]) -> Screen:
    """The account's billing contacts (shown only to one of them)."""
    lines = "\n".join(f"• {escape_line(name)} ({escape_line(email)})" for name, email in contacts[:30])
    more = f"\n…and {len(contacts) - 30} more" if len(contacts) > 30 else ""
    blocks: list[Block] = [
        section(
            f"*{escape_line(account.name)}* billing contacts (each gets reminders and receipts):\n"
            f"{lines or 'none'}{more}"
        ),
        context("To add or remove one, ask billing support."),
        actions(
            support_button(account.external_id, topic=CONTACTS_TOPIC, text="Ask billing support"),
            block_id="chat_contacts",
        ),
    ]
    return Screen(f"{account.name} billing contacts", blocks, title="Billing contacts")


def due_range_screen(start: date, end: date, invoices: Sequence[InvoiceView]) -> Screen:
    """The open invoices due between ``start`` and ``end``, each with its Pay button."""
    span = fmt_date(start) if start == end else f"{fmt_date(start)} to {fmt_date(end)}"
    if not invoices:
        return message_screen(f"Nothing of yours is due {span}.", title="Due")
    blocks: list[Block] = [section(f"Due {span}:")]
    blocks.extend(invoice_row(invoice) for invoice in invoices[:10])
    blocks.append(context(PRESS_PAY))
    return Screen(f"Due {span}: " + ", ".join(i.number for i in invoices[:10]), blocks, title="Due")
