"""``/billing``: ack at once with nothing, then answer ephemerally from a lazy listener."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from billing_core.errors import AccountNotFound
from handlers import pay, screens
from handlers.blocks.common import Screen, message_screen
from handlers.blocks.pay import partial_payment_screen
from handlers.grammar import Command, looks_like_amount, parse
from handlers.interaction import Interaction, run_safely
from handlers.surfaces import ResponseUrlSurface, Surface

logger = logging.getLogger(__name__)


def ack_command(ack: Ack) -> None:
    ack()


def run_command(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    command = parse(str(body.get("text") or ""))
    reply: Surface = ResponseUrlSurface(client, str(body.get("response_url") or ""), replace=False)
    if command.name == "pay_balance" or (command.name == "pay_invoice" and not looks_like_amount(command.argument)):
        # Straight to the confirmation modal: open it now, while the trigger id is valid.
        modal = pay.open_modal_now(client, body, fallback=reply)
        if modal is None:
            return
        invoice = command.argument if command.name == "pay_invoice" else None
        run_safely(body, client, context, lambda ix: pay.fill_pay_modal_from_command(ix, modal, invoice), surface=modal)
        return
    run_safely(body, client, context, lambda ix: answer(ix, command, reply), surface=reply)


def answer(ix: Interaction, command: Command, reply: Surface) -> None:
    if command.name == "help":
        reply.show(screens.help_(ix))
        return
    if command.name == "support" and hasattr(_support_module(), "handle_support_command"):
        # The escalations capability answers (it resolves the caller itself).
        _support_module().handle_support_command(
            body=ix.body, client=ix.client, context=ix.context, message=command.argument
        )
        return
    caller = ix.caller()
    if caller is None:
        reply.show(ix.refusal())
        return
    account = caller.active
    screen: Screen
    if command.name == "overview":
        screen = screens.overview(ix, caller)
    elif command.name == "balance":
        screen = screens.balance(ix, caller, account)
    elif command.name in ("invoices", "pay"):
        screen = screens.invoices(ix, caller, account)
    elif command.name == "pay_invoice":  # an amount: only full amounts are paid here
        open_invoices = ix.services.accounts.open_invoices(caller.actor, account.external_id)
        screen = partial_payment_screen(account, command.argument, open_invoices)
    elif command.name == "methods":
        screen = screens.methods(ix, caller, account)
    elif command.name == "history":
        screen = screens.history(ix, caller, account)
    elif command.name == "accounts":
        screen = screens.accounts(ix, caller)
    elif command.name == "switch":
        screen = switch(ix, command.argument)
    elif command.name == "support":
        screen = message_screen(
            f"To reach billing support, e-mail {ix.deps.support_email}. Include your account name and "
            "invoice number if it's about a specific invoice."
        )
    else:
        screen = screens.help_(ix)
    reply.show(screen)


def switch(ix: Interaction, query: str) -> Screen:
    """Switch by exact id or case-insensitive name; anything else lists the accounts, changing nothing."""
    from handlers.home import publish_home

    caller = ix.caller()
    assert caller is not None and ix.actor is not None
    if not query:
        return screens.accounts(ix, caller)
    try:
        switched = ix.services.accounts.switch(ix.actor, query)
    except AccountNotFound:
        return screens.accounts(ix, caller).with_notice(
            f"No account of yours matches “{query[:80]}”, so nothing changed. Your accounts:"
        )
    publish_home(ix)
    return screens.overview(ix, switched).with_notice(f"Switched to {switched.active.name}.")


def _support_module() -> Any:
    try:
        return importlib.import_module("handlers.support")
    except ModuleNotFoundError as error:
        if error.name != "handlers.support":
            raise
        return None


def register(app: App) -> None:
    app.command("/billing")(ack=ack_command, lazy=[run_command])
