"""What chat shows for an understanding, and the question it leaves open for a short answer.

Every screen is one ``/billing`` shows (through ``handlers.commands``) or one of chat's own with
the same buttons; a request naming another account of the person's is answered for that account
and says so. Nothing here moves money or changes anything: a payment, a card change, "I've
already paid" and a support request each still need their button and confirmation.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date

from billing_core.errors import BillingError
from billing_core.money import Money
from billing_core.views import AccountView, CallerContext, InvoiceView, PaymentMethodView
from handlers import commands, screens
from handlers.autopay.listeners import autopay_command_screen
from handlers.chat import blocks
from handlers.kit.blocks import Screen, message_screen
from handlers.kit.errors import PaymentsUnavailable
from handlers.kit.grammar import Command
from handlers.kit.interaction import Interaction
from handlers.kit.seam import Context, InvoiceRef, Pending, Understanding
from handlers.payments.blocks import methods_screen

CARD_INTENTS = frozenset({"make_default", "remove_card", "add_card", "methods", "autopay"})
# Intents answered exactly as ``/billing <command>`` answers, for the account the text names.
_AS_COMMAND = frozenset(
    {
        "overview",
        "balance",
        "invoices",
        "pay",
        "history",
        "accounts",
        "methods",
        "due_when",
        "pay_balance",
        "autopay",
        "support",
    }
)
_FOR_ACCOUNT_SCREENS = frozenset({"overview", "balance", "invoices", "pay"})
_MAX_VALUES = 10  # invoices or choices remembered for a follow-up


@dataclass(frozen=True, slots=True)
class Answered:
    """The screen, and what it asked or listed (``None``: nothing to answer to)."""

    screen: Screen
    asked: Pending | None = None


def seam_context(
    today: date,
    caller: CallerContext,
    invoices: list[InvoiceView],
    asked: Pending | None,
    reminder_invoices: tuple[tuple[str, str], ...],
) -> Context:
    """What the understander may resolve against: the person's own accounts and open invoices."""
    return Context(
        today=today,
        active=caller.active.external_id,
        accounts=tuple((account.external_id, account.name) for account in caller.accounts),
        invoices=tuple(
            InvoiceRef(
                i.number,
                i.account_external_id,
                i.issued_on,
                i.due_on,
                i.outstanding.amount_minor,
                i.outstanding.currency,
                i.description,
                i.overdue,
            )
            for i in invoices
        ),
        pending=asked,
        reminder_invoices=tuple(number for _, number in reminder_invoices),
    )


def answer_understood(
    ix: Interaction,
    caller: CallerContext,
    understood: Understanding,
    invoices: list[InvoiceView],
    cards: list[PaymentMethodView],
    reminder_invoices: tuple[tuple[str, str], ...],
) -> Answered:
    """The screen for ``understood`` (its values are the person's own: the understander only
    returns values of ``Context``, and each is looked up again here)."""
    intent = understood.intent
    by_number = {invoice.number: invoice for invoice in invoices}
    in_reminder = [by_number[number] for _, number in reminder_invoices if number in by_number]
    account = caller.account(understood.account) if understood.account else None
    if intent == "cancel":
        return Answered(message_screen("OK, nothing done."))
    if intent == "thanks":
        return Answered(blocks.thanks_screen())
    if intent == "help":
        return Answered(blocks.chat_help_screen())
    named = understood.unknown or understood.account  # an account id none of theirs is unknown too
    if named and intent in _AS_COMMAND | {"contacts"} and account is None:
        return Answered(
            screens.accounts(ix, caller).with_notice(f"No account of yours is named “{named[:40]}”. Your accounts:")
        )
    if intent == "pay" and in_reminder:
        return _listed(blocks.reminder_pay_screen(in_reminder), "pay_invoice", in_reminder)
    if intent == "already_paid":
        return _already_paid(understood, invoices, in_reminder, by_number)
    if intent in ("pay_invoice", "due_date", "invoice"):
        return _invoice(ix, understood, by_number, caller.active.external_id)
    if intent == "partial_payment":
        return _partial(caller, understood, by_number)
    if intent == "contact_change":
        return Answered(blocks.contact_change_screen(account or caller.active))
    if intent == "copy":
        return _copy(ix, understood, by_number)
    if intent == "reminders":  # reminder preferences (Marketplace issue) plug in here, for "stop"/"how"
        chosen = [by_number[understood.invoice]] if understood.invoice in by_number else in_reminder or invoices
        return Answered(
            blocks.reminders_screen(
                understood.detail, ix.services.reminders.schedule.steps, caller.active.external_id, chosen
            )
        )
    if intent == "contacts":
        target = account or caller.active
        return Answered(blocks.contacts_screen(target, ix.services.accounts.contacts(caller.actor, target.external_id)))
    if intent == "due_range":
        return _due_range(understood.detail, invoices)
    if intent == "pay_amount":  # an amount in another currency: /billing's answer
        return Answered(_as_command(ix, Command("pay_invoice", understood.detail)))
    if intent in ("make_default", "remove_card", "add_card"):
        return _cards_screen(caller, understood, cards)
    if intent == "switch":
        return _switch(ix, caller, understood)
    if intent in _AS_COMMAND:
        return _for_account(ix, caller, understood, account, invoices)
    return Answered(blocks.chat_help_screen())


def _for_account(
    ix: Interaction,
    caller: CallerContext,
    understood: Understanding,
    account: AccountView | None,
    invoices: list[InvoiceView],
) -> Answered:
    """``/billing <command>``'s screen, for the account the text named (said so) or the active one."""
    intent = understood.intent
    named = account is not None and account.external_id != caller.active.external_id
    target = account or caller.active
    theirs = [i for i in invoices if i.account_external_id == target.external_id]
    if understood.detail == "overdue":
        overdue = [i for i in theirs if i.overdue]
        if not overdue:
            return Answered(message_screen(f"Nothing of {target.name} is overdue.", title="Invoices"))
        screen = commands.open_invoices_screen(Command("invoices"), _as_active(caller, target), overdue)
        return _listed(screen.with_notice("Overdue:"), "invoices", overdue)
    if intent == "pay_balance":
        screen = commands.open_invoices_screen(Command("invoices"), _as_active(caller, target), theirs)
        notice = "Press Pay full balance to choose a card and confirm; nothing is charged before that."
        return _listed(screen.with_notice(f"For {target.name}: {notice}" if named else notice), "invoices", theirs)
    if intent == "autopay":
        _refresh_cards(ix, caller, target)  # autopay reads the default card: the same fresh copy as /billing methods
    if not named:
        command = "overview" if intent == "due_when" else _command_of(understood)
        screen = _as_command(ix, Command(command, understood.detail if intent == "autopay" else ""))
        return _listed(screen, "invoices", theirs) if intent in _FOR_ACCOUNT_SCREENS else Answered(screen)
    other = _as_active(caller, target)
    if intent in _FOR_ACCOUNT_SCREENS:
        screen = commands.open_invoices_screen(Command(intent), other, theirs)
        return _listed(screen.with_notice(f"For {target.name}:"), "invoices", theirs)
    if intent == "history":
        return Answered(screens.history(ix, other, target).with_notice(f"For {target.name}:"))
    if intent == "methods":
        return Answered(screens.methods(ix, other, target).with_notice(f"For {target.name}:"))
    if intent == "autopay":
        return Answered(autopay_command_screen(ix, other, understood.detail).with_notice(f"For {target.name}:"))
    return Answered(_as_command(ix, Command(_command_of(understood))))


def _command_of(understood: Understanding) -> str:
    return understood.command or understood.intent


def _as_active(caller: CallerContext, account: AccountView) -> CallerContext:
    """The caller as if ``account`` (one of theirs) were active: for this answer only, nothing stored."""
    return replace(caller, active=account)


def _refresh_cards(ix: Interaction, caller: CallerContext, account: AccountView) -> None:
    with suppress(PaymentsUnavailable, BillingError):  # the autopay screen says what is missing
        screens.list_methods(ix, caller.actor, account)


def _as_command(ix: Interaction, command: Command) -> Screen:
    """The screen ``/billing`` shows for ``command``."""
    shown: list[Screen] = []
    commands.answer(ix, command, _Capture(shown))
    return shown[0] if shown else message_screen("Nothing to show.")


class _Capture:
    def __init__(self, shown: list[Screen]) -> None:
        self._shown = shown

    def show(self, screen: Screen) -> None:
        self._shown.append(screen)


def _listed(screen: Screen, intent: str, invoices: list[InvoiceView]) -> Answered:
    """``screen``, remembering the invoices it listed ("the second one", "pay it")."""
    numbers = tuple(invoice.number for invoice in invoices[:_MAX_VALUES])
    return Answered(screen, Pending(intent, "shown", numbers) if numbers else None)


def _invoice(ix: Interaction, understood: Understanding, by_number: dict[str, InvoiceView], active: str) -> Answered:
    pay = understood.intent == "pay_invoice"
    if understood.choices:
        chosen = [by_number[number] for number in understood.choices if number in by_number]
        numbers = [i.number for i in chosen]
        question = blocks.which_one(numbers) if len(chosen) > 1 else f"Did you mean {numbers[0]}?"
        asked = Pending(understood.intent, "choices", tuple(numbers[:_MAX_VALUES]))
        return Answered(blocks.pay_buttons_screen(chosen, question), asked)
    invoice = by_number.get(understood.invoice)
    if invoice is None:
        named = understood.unknown.upper()  # invoice numbers are written in capitals
        notice = (
            f"I couldn't find an open invoice “{named[:40]}” of yours. Your open invoices:"
            if named
            else "Which invoice? Here are your open ones."
        )
        listed = [i for i in by_number.values() if i.account_external_id == active]
        return _listed(_as_command(ix, Command("invoices")).with_notice(notice), understood.intent, listed)
    notice = blocks.PRESS_PAY if pay and not invoice.payment_in_progress else ""
    return Answered(blocks.invoice_screen(invoice, notice), Pending(understood.intent, "shown", (invoice.number,)))


def _already_paid(
    understood: Understanding,
    invoices: list[InvoiceView],
    in_reminder: list[InvoiceView],
    by_number: dict[str, InvoiceView],
) -> Answered:
    if understood.invoice in by_number:
        chosen = [by_number[understood.invoice]]
    elif understood.choices:
        chosen = [by_number[number] for number in understood.choices if number in by_number]
    elif understood.unknown:
        chosen = []
    else:
        chosen = in_reminder or invoices
    if not chosen:
        if understood.unknown:
            return Answered(
                message_screen(
                    f"I couldn't find an open invoice “{understood.unknown.upper()[:40]}” of yours.",
                    title="Already paid",
                )
            )
        return Answered(message_screen("You have no open invoices, so there is nothing to mark as paid."))
    numbers = tuple(invoice.number for invoice in chosen[:_MAX_VALUES])
    if len(chosen) == 1:
        return Answered(
            blocks.already_paid_screen(
                chosen,
                f"Did you mean {numbers[0]}? Tell billing support you've paid it?"
                if understood.unknown
                else "Tell billing support you've paid it?",
            ),
            Pending("already_paid", "confirm", numbers),
        )
    return Answered(
        blocks.already_paid_screen(chosen, blocks.which_one(list(numbers))), Pending("already_paid", "choices", numbers)
    )


def _partial(caller: CallerContext, understood: Understanding, by_number: dict[str, InvoiceView]) -> Answered:
    invoice = by_number.get(understood.invoice)
    account = invoice.account_external_id if invoice is not None else caller.active.external_id
    currency = invoice.outstanding.currency if invoice is not None else caller.active.currency
    amount = ""
    if understood.amount.isdigit():
        amount = Money(int(understood.amount), currency).format()
    return Answered(blocks.partial_payment_screen(account, invoice, amount))


def _copy(ix: Interaction, understood: Understanding, by_number: dict[str, InvoiceView]) -> Answered:
    invoice = by_number.get(understood.invoice)
    if invoice is not None:
        return Answered(blocks.copy_screen(invoice), Pending("copy", "shown", (invoice.number,)))
    if understood.choices:
        chosen = tuple(number for number in understood.choices if number in by_number)
        return Answered(
            _as_command(ix, Command("invoices")).with_notice(blocks.which_one(list(chosen))),
            Pending("copy", "choices", chosen),
        )
    notice = (
        f"I couldn't find an open invoice “{understood.unknown.upper()[:40]}” of yours. " if understood.unknown else ""
    ) + "Which invoice? Each open one has its View invoice link below when there is a copy."
    return Answered(_as_command(ix, Command("invoices")).with_notice(notice))


def _due_range(detail: str, invoices: list[InvoiceView]) -> Answered:
    first, _, last = detail.partition("..")
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    due = sorted((i for i in invoices if start <= i.due_on <= end), key=lambda i: i.due_on)
    screen = blocks.due_range_screen(start, end, due)
    return _listed(screen, "invoices", due)


def _switch(ix: Interaction, caller: CallerContext, understood: Understanding) -> Answered:
    if understood.choices:
        names = {a.external_id: a.name for a in caller.accounts}
        screen = screens.accounts(ix, caller).with_notice(
            blocks.which_one([names.get(c, c) for c in understood.choices])
        )
        return Answered(screen, Pending("switch", "choices", understood.choices[:_MAX_VALUES]))
    return Answered(_as_command(ix, Command("switch", understood.account or understood.unknown)))


def _cards_screen(caller: CallerContext, understood: Understanding, cards: list[PaymentMethodView]) -> Answered:
    account = caller.active
    if understood.intent == "add_card":
        notice = "Press Add card to add one on Stripe's secure page."
        return Answered(methods_screen(account, cards).with_notice(notice))
    chosen = [card for card in cards if card.id == understood.card]
    if chosen:
        if understood.intent == "make_default" and chosen[0].is_default:
            return Answered(methods_screen(account, chosen).with_notice("That card is already the default."))
        verb = "make it the default" if understood.intent == "make_default" else "remove it"
        return Answered(methods_screen(account, chosen).with_notice(f"Press the button below to {verb}."))
    if understood.choices:
        options = [card for card in cards if card.id in understood.choices]
        asked = Pending(understood.intent, "choices", tuple(card.id for card in options))
        return Answered(
            methods_screen(account, options).with_notice(
                blocks.which_one([f"{card.brand.title()} ending {card.last4}" for card in options])
            ),
            asked,
        )
    notice = (
        "Which card? Here are your saved cards."
        if not understood.unknown
        else f"No saved card of yours matches “{understood.unknown[:40]}”. Your cards:"
    )
    return Answered(methods_screen(account, cards).with_notice(notice))
