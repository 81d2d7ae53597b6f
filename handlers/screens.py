"""Screens: read what the caller may see through the services, render with the pure builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from billing_core.autopay.switch import AutopayStatus
from billing_core.payments.methods import CARDS_FRESH_FOR
from billing_core.views import AccountView, Actor, CallerContext, PaymentMethodView
from handlers.accounts.accounts_blocks import accounts_screen
from handlers.accounts.help_blocks import help_screen
from handlers.accounts.invoices_blocks import invoices_screen
from handlers.accounts.overview_blocks import overview_screen
from handlers.kit.blocks import Screen
from handlers.kit.interaction import Interaction
from handlers.payments.history_blocks import history_screen
from handlers.payments.methods_blocks import methods_screen


def overview(ix: Interaction, caller: CallerContext) -> Screen:
    invoices = ix.services.accounts.open_invoices(caller.actor, caller.active.external_id, limit=1)
    return overview_screen(caller, invoices[0] if invoices else None)


def invoices(ix: Interaction, caller: CallerContext, account: AccountView) -> Screen:
    return invoices_screen(account, ix.services.accounts.open_invoices(caller.actor, account.external_id))


def current_invoices(ix: Interaction, caller: CallerContext, account: AccountView) -> Screen:
    """The invoices screen with the account's figures re-read (after a payment or a refusal)."""
    fresh, open_invoices = ix.services.accounts.open_account(caller.actor, account.external_id)
    return invoices_screen(fresh, open_invoices)


def list_methods(
    ix: Interaction,
    actor: Actor,
    account: AccountView,
    *,
    refresh: bool = False,
    before_stripe: Callable[[], None] | None = None,
    max_age: timedelta = CARDS_FRESH_FOR,
) -> list[PaymentMethodView]:
    """The account's cards as Stripe held them at most ``max_age`` ago (``PaymentsUnavailable``
    without a Stripe key); ``before_stripe`` runs first when Stripe must be asked (a loading view)."""
    cards = ix.payment_methods
    copy = cards.copy(actor, account.external_id, refresh=refresh, max_age=max_age)
    if copy.stale and before_stripe is not None:
        before_stripe()
    return list(cards.current(copy))


def methods(ix: Interaction, caller: CallerContext, account: AccountView, page: int = 0) -> Screen:
    """The card list a person asked for: asked of Stripe now, so a card added or removed there
    without a webhook shows (the cached copy if Stripe cannot answer)."""
    cards = list_methods(ix, caller.actor, account, max_age=timedelta(0))
    return methods_screen(account, cards, autopay_status(ix, caller.actor, account), page=page)


def autopay_status(ix: Interaction, actor: Actor, account: AccountView) -> AutopayStatus | None:
    """The account's autopay for a screen; None when nothing could be charged (no Stripe key)."""
    service = ix.services.chargeable_autopay()
    return None if service is None else service.status(actor, account.external_id)


def history(ix: Interaction, caller: CallerContext, account: AccountView, page: int = 0) -> Screen:
    payments, outside = ix.services.history.page_with_outside(caller.actor, account.external_id, page, 10)
    return history_screen(account, payments, outside)


def accounts(ix: Interaction, caller: CallerContext) -> Screen:
    return accounts_screen(caller)


def help_(ix: Interaction) -> Screen:
    return help_screen(ix.deps.support_email)


def refreshed_account(ix: Interaction, caller: CallerContext, account: AccountView) -> AccountView:
    """The account's summary as of now (after a payment or a change)."""
    return ix.services.accounts.account(caller.actor, account.external_id)
