"""``/billing pay <text>``: the full payment the text names, or the screen saying it names none.

An open invoice's number (without regard to case) names that invoice; an amount equal to the
whole open balance, or to one open invoice's outstanding amount, names that full payment. Any
other amount is a partial payment (refused, with the offer to escalate); any other text names no
open invoice (said so, with the open invoices listed). Nothing changes on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing_core.errors import InvoiceClosedAtSource
from billing_core.views import AccountView, CallerContext, InvoiceView
from handlers.kit.blocks import Screen
from handlers.kit.grammar import BALANCE, full_payment_named, invoice_named, looks_like_amount
from handlers.kit.interaction import Interaction
from handlers.kit.invoice_blocks import invoices_screen
from handlers.payments.blocks import partial_payment_screen


@dataclass(frozen=True, slots=True)
class FullPayment:
    """What the pay modal confirms: one invoice of ``account``, or (``invoice`` None) its balance."""

    account: AccountView
    invoice: str | None


def pay_text_target(ix: Interaction, caller: CallerContext, text: str) -> FullPayment | Screen:
    """The full payment ``text`` names for the caller, else the screen that answers it."""
    found = _invoice_any_case(ix, caller, text)
    if found is not None and found[1].status == "open":
        return FullPayment(found[0], found[1].number)
    account, open_invoices = ix.services.accounts.open_account(caller.actor, caller.active.external_id)
    if found is None and looks_like_amount(text):
        named = full_payment_named(text, account.balance, open_invoices)
        if named is None:
            return partial_payment_screen(account, text, open_invoices)
        return FullPayment(account, None if named == BALANCE else named)
    target = found[1] if found is not None else None
    return no_open_invoice_screen(
        account, text, open_invoices, paid=target is not None and target.status == "paid", closed=target
    )


def no_open_invoice_screen(
    account: AccountView,
    text: str,
    open_invoices: list[InvoiceView],
    *,
    paid: bool = False,
    closed: InvoiceView | None = None,
) -> Screen:
    """``pay <text>`` naming no open invoice: say so (for one closed where it lives, how and when:
    "INV-1001 was paid on 3 Dec outside Slack"), and list the open invoices to choose from."""
    if closed is not None and closed.closed_as is not None and closed.status != "open":
        sentence = InvoiceClosedAtSource(closed.number, closed.closed_as, closed.closed_on).sentence()
        return invoices_screen(account, open_invoices).with_notice(f"{sentence}: there is nothing to pay.")
    why = ": it has been paid" if paid else ""
    return invoices_screen(account, open_invoices).with_notice(f"No open invoice {text.strip()[:60]}{why}.")


def _invoice_any_case(ix: Interaction, caller: CallerContext, text: str) -> tuple[AccountView, InvoiceView] | None:
    """The caller's invoice ``text`` names, with its account: the active account's first."""
    typed = text.strip()
    matches = ix.services.accounts.invoices_numbered_any_case(caller.actor, typed)
    active = caller.active
    for account in [active, *(a for a in caller.accounts if a.external_id != active.external_id)]:
        number = invoice_named(typed, [found for holder, found in matches if holder == account.external_id])
        if number is not None:
            return account, ix.services.accounts.invoice(caller.actor, account.external_id, number)
    return None
