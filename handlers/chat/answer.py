"""A typed message answered: understood through the seam (``handlers.kit.seam``, the rule-based
understander unless the composition root gives another), then shown as the screen ``/billing``
would show for it, or as one invoice / "which one?" with the same buttons
(``handlers.chat.replies_for``). The question it asks is kept in the database for the answer.

Identity and access are ``/billing``'s: ``help`` for anyone, everything else only for a verified
billing contact (``ix.contact()`` raises, and ``run_safely`` shows the refusal or the e-mail code).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from billing_core.views import CallerContext, InvoiceView, PaymentMethodView
from handlers import screens
from handlers.chat import blocks
from handlers.chat.replies_for import CARD_INTENTS, answer_understood, seam_context
from handlers.chat.rules import RuleUnderstander
from handlers.chat.understand import parse
from handlers.kit.interaction import Interaction
from handlers.kit.seam import CardRef, Pending
from handlers.kit.surfaces import Surface

RULES = RuleUnderstander()  # the understander when the composition root names none


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
    questions = ix.services.chat_questions
    asked = Pending.decode(questions.last(ix.team_id, ix.user_id) or "") if questions is not None else None
    understander = ix.deps.understander or RULES
    known = seam_context(ix.services.accounts.today(), caller, invoices, asked, where.reminder_invoices)
    understood = understander.understand(text, known)
    cards: list[PaymentMethodView] = []
    if understood is not None and understood.intent in CARD_INTENTS:
        cards = _cards(ix, caller)  # the service /billing methods uses: fresh from Stripe when stale
        known = replace(known, cards=tuple(CardRef(c.id, c.brand, c.last4, c.is_default) for c in cards))
        understood = understander.understand(text, known)
    if understood is None:
        misses = MISSES.missed(person)
        reply.show(
            blocks.not_caught_screen(
                suggestions(invoices), support_account=caller.active.external_id if misses >= 2 else None
            )
        )
        return None
    MISSES.understood(person)
    answered = answer_understood(ix, caller, understood, invoices, cards, where.reminder_invoices)
    if questions is not None:  # kept before the answer is seen: a quick reply may reach another replica
        if answered.asked is not None:
            questions.ask(ix.team_id, ix.user_id, answered.asked.encode())
        elif asked is not None:
            questions.forget(ix.team_id, ix.user_id)
    reply.show(answered.screen)
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
