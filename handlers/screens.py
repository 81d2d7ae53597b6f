"""Screens: read what the caller may see through the services, render with the pure builders.

The screens of every subdomain in one place for the layers above them (commands, navigation, chat)."""

from __future__ import annotations

from billing_core.views import AccountView, CallerContext
from handlers.accounts.blocks import accounts_screen, help_screen, overview_screen
from handlers.kit.blocks import Screen
from handlers.kit.interaction import Interaction
from handlers.kit.invoice_blocks import invoices_screen

# Payments draws its own screens; they are the app's screens too (commands, navigation, chat).
from handlers.payments.screens import autopay_status, history, list_methods, methods, show_methods


def overview(ix: Interaction, caller: CallerContext) -> Screen:
    invoices = ix.services.accounts.open_invoices(caller.actor, caller.active.external_id, limit=1)
    return overview_screen(caller, invoices[0] if invoices else None)


def invoices(ix: Interaction, caller: CallerContext, account: AccountView) -> Screen:
    return invoices_screen(account, ix.services.accounts.open_invoices(caller.actor, account.external_id))


def current_invoices(ix: Interaction, caller: CallerContext, account: AccountView) -> Screen:
    """The invoices screen with the account's figures re-read (after a payment or a refusal)."""
    fresh, open_invoices = ix.services.accounts.open_account(caller.actor, account.external_id)
    return invoices_screen(fresh, open_invoices)


def accounts(ix: Interaction, caller: CallerContext) -> Screen:
    return accounts_screen(caller)


def help_(ix: Interaction) -> Screen:
    return help_screen(ix.deps.support_email)


def refreshed_account(ix: Interaction, caller: CallerContext, account: AccountView) -> AccountView:
    """The account's summary as of now (after a payment or a change)."""
    return ix.services.accounts.account(caller.actor, account.external_id)


__all__ = [
    "accounts",
    "autopay_status",
    "current_invoices",
    "help_",
    "history",
    "invoices",
    "list_methods",
    "methods",
    "overview",
    "refreshed_account",
    "show_methods",
]
