"""``/billing``: answered in the ack body when that is a cheap read, else ack empty and answer lazily.

The ack answers ``help`` and, for a caller whose identity is already cached (no Slack call), the
read-only screens; when and where that read runs, and that only one of the ack and the follow-up
answers, is ``handlers.runtime.ack_answer``'s business. Anything else (a cold identity, a caller
still to verify their e-mail, a modal, a write, Stripe, a slow or failed read) acks empty and the
follow-up answers through ``response_url``. Always ephemeral.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from billing_core.errors import AccountNotFound, NotABillingContact
from billing_core.views import CallerContext, InvoiceView
from handlers import screens
from handlers.accounts.blocks import balance_screen, help_screen, overview_screen
from handlers.autopay import listeners as autopay
from handlers.escalations import listeners as support
from handlers.kit.blocks import Screen
from handlers.kit.grammar import Command, parse
from handlers.kit.interaction import Interaction, deps_of, run_safely
from handlers.kit.invoice_blocks import invoices_screen
from handlers.kit.surfaces import ResponseUrlSurface, Surface
from handlers.payments import listeners as pay
from handlers.payments.blocks import partial_payment_screen
from handlers.payments.pay_text import FullPayment, pay_text_target
from handlers.runtime.ack_answer import Read, Reply, answer_in_ack, answered_in_ack
from handlers.runtime.follow_up import acked_then

logger = logging.getLogger(__name__)


# Read-only screens an ack may show (methods may ask Stripe, switch writes and publishes Home).
_READS_IN_ACK = frozenset({"overview", "balance", "invoices", "pay", "pay_invoice", "history", "accounts"})
_OPEN_INVOICE_SCREENS = frozenset({"overview", "balance", "invoices", "pay"})
NOT_UNDERSTOOD = "Sorry, I didn't understand “{text}”. Here's what I can do:"


def ack_command(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    answer_in_ack(
        ack, context, lambda: _ack_plan(body, client, context),
        later=run_command, later_args={"body": body, "client": client, "context": context},
        reads=deps_of(context).ack_reads,
    )  # fmt: skip


def _ack_plan(body: dict[str, Any], client: WebClient, context: BoltContext) -> Reply | Read | None:
    """What the ack can answer: ``help`` as is, a read-only screen for a caller whose identity is
    cached (no Slack call) as a read; ``None`` leaves the answer to ``run_command``."""
    command = parse(str(body.get("text") or ""))
    deps = deps_of(context)
    if command.name == "help":
        return _in_ack(_help(help_screen(deps.support_email), command, body))
    if command.name not in _READS_IN_ACK:
        return None
    ix = Interaction(body, client, context, cached_identity_only=True)
    known, _actor = deps.identity.cached(ix.team_id, ix.user_id)
    if not known:
        return None
    return lambda: _in_ack(_read_in_ack(ix, command))


def _help(screen: Screen, command: Command, body: dict[str, Any]) -> Screen:
    """Help, after a line saying the text was not understood when it was not."""
    if command.understood:
        return screen
    return screen.with_notice(NOT_UNDERSTOOD.format(text=str(body.get("text") or "").strip()[:60]))


def _in_ack(screen: Screen | None) -> Reply | None:
    return None if screen is None else {"text": screen.text, "blocks": screen.blocks, "response_type": "ephemeral"}


def _read_in_ack(ix: Interaction, command: Command) -> Screen | None:
    # No actor (no e-mail visible, or still to verify it) or not a contact: the follow-up
    # explains, and e-mails a code when one is due. Billing data only for a verified contact.
    if command.name in _OPEN_INVOICE_SCREENS:
        return _open_invoices_proven(ix, command)
    if ix.actor is None:
        return None
    caller = ix.caller()
    if caller is None:
        return None
    if command.name == "pay_invoice":  # a full payment is confirmed in a modal: the follow-up opens it
        target = pay_text_target(ix, caller, command.argument)
        return None if isinstance(target, FullPayment) else target
    return read_screen(ix, command, caller)


def _open_invoices_proven(ix: Interaction, command: Command) -> Screen | None:
    """``_open_invoices_answer`` with the caller's proven e-mail checked in the same read (one
    statement, not a lookup of the identity link first); ``None`` (the follow-up explains, and
    e-mails a code when one is due) unless the caller is a contact whose e-mail counts."""
    actor = ix.slack_actor
    if actor is None:
        return None
    try:
        caller, open_invoices, proven = ix.services.accounts.caller_with_open_invoices_and_proof(actor)
    except NotABillingContact:
        return None
    if not ix.services.identity_verification.proven_by(actor, proven):
        return None
    return open_invoices_screen(command, caller, open_invoices)


def _open_invoices_answer(ix: Interaction, command: Command) -> Screen | None:
    """A screen drawn from the active account's open invoices; ``None`` for someone who is no contact."""
    assert ix.actor is not None
    try:
        caller, open_invoices = ix.services.accounts.caller_with_open_invoices(ix.actor)
    except NotABillingContact:
        return None
    return open_invoices_screen(command, caller, open_invoices)


def run_command(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if answered_in_ack(context):
        return  # answered in the ack, or already being answered since the ack deadline passed
    command = parse(str(body.get("text") or ""))
    # A new reply; a later replace_original through this URL replaces that reply (``/billing methods``).
    reply: Surface = ResponseUrlSurface(client, str(body.get("response_url") or ""), replace=False, own_reply=True)
    if command.name == "pay_balance":
        # Straight to the confirmation modal: open it now, while the trigger id is valid.
        modal = pay.open_modal_now(client, body, fallback=reply)
        if modal is None:
            return
        run_safely(body, client, context, lambda ix: pay.fill_pay_modal_from_command(ix, modal, None), surface=modal)
        return
    if command.name == "pay_invoice":
        _pay_text(body, client, context, command.argument, reply)
        return
    run_safely(body, client, context, lambda ix: answer(ix, command, reply), surface=reply)


def _pay_text(body: dict[str, Any], client: WebClient, context: BoltContext, text: str, reply: Surface) -> None:
    """``pay <text>``: the answer that it names no full payment, or that payment's confirmation
    modal, opened with the command's trigger id (the reads before it take milliseconds)."""
    named: list[tuple[CallerContext, FullPayment]] = []
    run_safely(body, client, context, lambda ix: named.extend(pay_text(ix, text, reply)), surface=reply)
    if not named:
        return
    [(caller, target)] = named
    modal = pay.open_modal_now(client, body, fallback=reply)
    if modal is not None:
        run_safely(
            body,
            client,
            context,
            lambda ix: pay.fill_pay_modal(ix, caller, modal, target.account, target.invoice),
            surface=modal,
        )


def pay_text(ix: Interaction, text: str, reply: Surface) -> list[tuple[CallerContext, FullPayment]]:
    """The full payment ``pay <text>`` names for the caller (with the caller); else ``reply`` shows
    why it names none and the list is empty. Payments must be configured before a window opens."""
    caller = ix.contact()
    target = pay_text_target(ix, caller, text)
    if not isinstance(target, FullPayment):
        reply.show(target)
        return []
    ix.require_payments()
    return [(caller, target)]


def answer(ix: Interaction, command: Command, reply: Surface) -> None:
    if command.name == "help":
        reply.show(_help(screens.help_(ix), command, ix.body))
        return
    if command.name in _OPEN_INVOICE_SCREENS and ix.actor is not None:
        screen = _open_invoices_answer(ix, command)  # the caller and the invoices in one read
        reply.show(screen if screen is not None else ix.refusal())
        return
    caller = ix.contact()
    if command.name == "pay_invoice":  # from chat, which has no trigger id to open the modal with
        screen = _pay_text_without_modal(ix, caller, command.argument)
    elif command.name in _READS_IN_ACK:
        screen = read_screen(ix, command, caller)
    elif command.name == "methods":
        # From the card copy at once; Stripe is asked off the request path and the reply
        # corrected in place only when it differs (as the card list opened from a button).
        screens.show_methods(ix, caller, caller.active, reply)
        return
    elif command.name == "switch":
        screen = switch(ix, caller, command.argument)
    elif command.name == "support":
        screen = support.support_command_screen(ix, caller, command.argument)
    elif command.name == "autopay":
        screen = autopay.autopay_command_screen(ix, caller, command.argument)
    else:
        screen = screens.help_(ix)
    reply.show(screen)


def _pay_text_without_modal(ix: Interaction, caller: CallerContext, text: str) -> Screen:
    """``pay <text>`` answered by a screen: why it names no full payment, or the open invoices with
    the named payment's Pay button to press (the confirmation opens from that click)."""
    target = pay_text_target(ix, caller, text)
    if not isinstance(target, FullPayment):
        return target
    named = f"invoice {target.invoice}" if target.invoice is not None else "the full balance"
    account, open_invoices = ix.services.accounts.open_account(caller.actor, target.account.external_id)
    return invoices_screen(account, open_invoices).with_notice(
        f"That is {named}: press its Pay button to choose a card and confirm. Nothing is charged before that."
    )


def read_screen(ix: Interaction, command: Command, caller: CallerContext) -> Screen:
    """The screen of ``history`` or ``accounts`` for a verified contact (the screens drawn from open
    invoices read the caller along with them: ``_open_invoices_answer``)."""
    if command.name == "history":
        return screens.history(ix, caller, caller.active)
    return screens.accounts(ix, caller)


def open_invoices_screen(command: Command, caller: CallerContext, open_invoices: list[InvoiceView]) -> Screen:
    """The screens drawn from the active account's open invoices (oldest due first)."""
    account = caller.active
    first = open_invoices[0] if open_invoices else None
    if command.name == "overview":
        return overview_screen(caller, first)
    if command.name == "balance":
        return balance_screen(account, first)
    if command.name == "pay_invoice":  # an amount: only full amounts are paid here
        return partial_payment_screen(account, command.argument, open_invoices)
    return invoices_screen(account, open_invoices)  # invoices, pay


def switch(ix: Interaction, caller: CallerContext, query: str) -> Screen:
    """Switch by exact id or case-insensitive name; anything else lists the accounts, changing nothing."""
    if not query:
        return screens.accounts(ix, caller)
    try:
        switched = ix.services.accounts.switch(caller.actor, query)
    except AccountNotFound:
        return screens.accounts(ix, caller).with_notice(
            f"No account of yours matches “{query[:80]}”, so nothing changed. Your accounts:"
        )
    ix.publish_home()
    return screens.overview(ix, switched).with_notice(f"Switched to {switched.active.name}.")


def register(app: App) -> None:
    app.command("/billing")(acked_then(ack_command, run_command))
