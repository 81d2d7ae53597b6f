"""A typed message answered: understood (``handlers.chat.understand``), then shown as the screen
``/billing`` would show for it, or as one invoice / "which one?" with the same buttons.

Identity and access are ``/billing``'s: ``help`` for anyone, everything else only for a verified
billing contact (``ix.contact()`` raises, and ``run_safely`` shows the refusal or the e-mail code).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from billing_core.views import CallerContext, InvoiceView, PaymentMethodView
from handlers import commands, screens
from handlers.chat import chat_blocks as blocks
from handlers.chat.intents import AUTOPAY_SWITCH
from handlers.chat.understand import Card, Known, Understood, parse, resolve
from handlers.grammar import Command
from handlers.kit.blocks import Screen, message_screen
from handlers.kit.interaction import Interaction
from handlers.kit.surfaces import Surface
from handlers.payments.methods_blocks import methods_screen

# Intents answered exactly as ``/billing <command> [argument]`` answers.
_AS_COMMAND = frozenset({"overview", "help", "balance", "invoices", "pay", "history", "accounts", "methods",
                         "due_when"})


@dataclass(frozen=True, slots=True)
class Where:
    """Where the message was typed: a reminder's thread names that reminder's invoices."""

    reminder_invoices: tuple[tuple[str, str], ...] = ()


class Misses:
    """How many messages in a row each person's were not understood (bounded, in memory)."""

    def __init__(self, max_people: int = 10_000) -> None:
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._max = max_people
        self._lock = threading.Lock()

    def missed(self, person: str) -> int:
        """Count a miss; returns how many in a row."""
        with self._lock:
            count = self._counts.pop(person, 0) + 1
            self._counts[person] = count
            while len(self._counts) > self._max:
                self._counts.popitem(last=False)
            return count

    def understood(self, person: str) -> None:
        with self._lock:
            self._counts.pop(person, None)


MISSES = Misses()


def answer_text(ix: Interaction, text: str, reply: Surface, where: Where = Where()) -> str | None:
    """Answer ``text`` on ``reply``; returns the intent understood (``None``: not understood)."""
    parsed = parse(text)
    person = f"{ix.team_id}:{ix.user_id}"
    if parsed.intent is not None and parsed.intent.name == "help":
        MISSES.understood(person)
        reply.show(blocks.chat_help_screen())
        return "help"
    caller = ix.contact()  # not a contact: the refusal, before anything about an account
    invoices = _open_invoices(ix, caller)
    cards = _cards(ix, caller) if parsed.intent is not None and parsed.intent.slot == "card" else []
    known = Known(
        invoices=tuple(invoice.number for invoice in invoices),
        accounts=tuple((account.external_id, account.name) for account in caller.accounts),
        cards=tuple(Card(card.id, card.brand, card.last4) for card in cards),
    )
    understood = resolve(parsed, known)
    if understood is None:
        misses = MISSES.missed(person)
        reply.show(blocks.not_caught_screen(
            suggestions(invoices), support_account=caller.active.external_id if misses >= 2 else None
        ))
        return None
    MISSES.understood(person)
    reply.show(_screen(ix, caller, understood, invoices, cards, where))
    return understood.intent


def suggestions(invoices: list[InvoiceView]) -> list[str]:
    """Three things to type that fit the person's state (an overdue invoice first)."""
    overdue = [invoice for invoice in invoices if invoice.overdue]
    if overdue:
        return [f"pay {overdue[0].number}", "what do I owe?", "show my invoices"]
    if invoices:
        return ["what do I owe?", f"when is {invoices[0].number} due", "my cards"]
    return ["payment history", "my cards", "talk to a person"]


def _open_invoices(ix: Interaction, caller: CallerContext) -> list[InvoiceView]:
    """Open invoices of the person's accounts, the active one's first."""
    ordered = [caller.active, *(a for a in caller.accounts if a.external_id != caller.active.external_id)]
    found: list[InvoiceView] = []
    for account in ordered[:10]:
        found.extend(ix.services.accounts.open_invoices(caller.actor, account.external_id, limit=50))
    return found


def _cards(ix: Interaction, caller: CallerContext) -> list[PaymentMethodView]:
    return screens.list_methods(ix, caller.actor, caller.active)


def _screen(
    ix: Interaction, caller: CallerContext, understood: Understood, invoices: list[InvoiceView],
    cards: list[PaymentMethodView], where: Where,
) -> Screen:
    intent = understood.intent
    by_number = {invoice.number: invoice for invoice in invoices}
    in_reminder = [by_number[number] for _, number in where.reminder_invoices if number in by_number]
    if intent == "pay" and in_reminder:
        return blocks.reminder_pay_screen(in_reminder)
    if intent == "already_paid":
        return _already_paid(understood, invoices, in_reminder, by_number)
    if intent in _AS_COMMAND:
        return _as_command(ix, Command("overview" if intent == "due_when" else understood.command))
    if intent == "pay_amount":  # the /billing rule for an amount (only full amounts are paid)
        return _as_command(ix, Command("pay_invoice", understood.argument))
    if intent == "pay_balance":
        return _as_command(ix, Command("invoices")).with_notice(
            "Press Pay full balance to choose a card and confirm; nothing is charged before that.")
    if intent in ("pay_invoice", "due_date", "invoice"):
        return _invoice(ix, understood, by_number, pay=intent == "pay_invoice")
    if intent == "switch":
        if understood.choices:
            names = dict((a.external_id, a.name) for a in caller.accounts)
            return screens.accounts(ix, caller).with_notice(
                blocks.which_one([names.get(c, c) for c in understood.choices]))
        return _as_command(ix, Command("switch", understood.argument or understood.unknown))
    if intent in ("make_default", "remove_card", "add_card"):
        return _cards_screen(caller, understood, cards)
    if intent == "support":
        return _as_command(ix, Command("support"))  # the open requests and the button; never text as a request
    if intent == "autopay":
        switch = AUTOPAY_SWITCH.get(understood.argument, "")
        return _as_command(ix, Command("autopay", switch))  # a confirmation: nothing changes before its click
    if intent == "thanks":
        return blocks.thanks_screen()
    return blocks.chat_help_screen()


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


def _invoice(ix: Interaction, understood: Understood, by_number: dict[str, InvoiceView], *, pay: bool) -> Screen:
    if understood.choices:
        chosen = [by_number[number] for number in understood.choices if number in by_number]
        return blocks.pay_buttons_screen(chosen, blocks.which_one(list(understood.choices)))
    invoice = by_number.get(understood.argument)
    if invoice is None:
        named = (understood.unknown or understood.argument).upper()  # invoice numbers are written in capitals
        notice = (f"I couldn't find an open invoice “{named[:40]}” of yours. Your open invoices:" if named
                  else "Which invoice? Here are your open ones.")
        return _as_command(ix, Command("invoices")).with_notice(notice)
    return blocks.invoice_screen(invoice, blocks.PRESS_PAY if pay and not invoice.payment_in_progress else "")


def _already_paid(
    understood: Understood, invoices: list[InvoiceView], in_reminder: list[InvoiceView],
    by_number: dict[str, InvoiceView],
) -> Screen:
    if understood.argument in by_number:
        chosen = [by_number[understood.argument]]
    elif understood.choices:
        chosen = [by_number[number] for number in understood.choices if number in by_number]
    else:
        chosen = in_reminder or invoices
    if not chosen:
        return message_screen("You have no open invoices, so there is nothing to mark as paid.")
    question = ("Tell billing support you've paid it?" if len(chosen) == 1
                else blocks.which_one([invoice.number for invoice in chosen[:10]]))
    return blocks.already_paid_screen(chosen, question)


def _cards_screen(caller: CallerContext, understood: Understood, cards: list[PaymentMethodView]) -> Screen:
    account = caller.active
    if understood.intent == "add_card":
        return methods_screen(account, cards).with_notice("Press Add card to add one on Stripe's secure page.")
    chosen = [card for card in cards if card.id == understood.argument]
    if chosen:
        if understood.intent == "make_default" and chosen[0].is_default:
            return methods_screen(account, chosen).with_notice("That card is already the default.")
        verb = "make it the default" if understood.intent == "make_default" else "remove it"
        return methods_screen(account, chosen).with_notice(f"Press the button below to {verb}.")
    if understood.choices:
        options = [card for card in cards if card.id in understood.choices]
        return methods_screen(account, options).with_notice(
            blocks.which_one([f"{card.brand.title()} ending {card.last4}" for card in options]))
    notice = "Which card? Here are your saved cards." if not understood.unknown else \
        f"No saved card of yours matches “{understood.unknown[:40]}”. Your cards:"
    return methods_screen(account, cards).with_notice(notice)
