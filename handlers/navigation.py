"""Screen buttons (Pay list, Payment methods, History, Switch account), the account select,
URL buttons (acked, nothing else), and the catch-all for unknown or stale actions."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from handlers import screens
from handlers.accounts.ids import SHOW_ACCOUNTS_ACTION, SWITCH_ACCOUNT_ACTION
from handlers.kit.blocks import Screen, modal, section
from handlers.kit.errors import OUT_OF_DATE, START_AGAIN
from handlers.kit.guard import Refusal, Request, acked, for_account, plain_ack
from handlers.kit.ids import (
    LINK_ACTION_PREFIX,
    SHOW_HISTORY_ACTION,
    SHOW_INVOICES_ACTION,
    SHOW_METHODS_ACTION,
    SHOW_OVERVIEW_ACTION,
)
from handlers.kit.interaction import run_safely
from handlers.kit.payloads import AccountRef, HistoryPage, SwitchChoice
from handlers.kit.surfaces import Nowhere, Surface, opened_surface
from handlers.payments.ids import SHOW_HISTORY_PREVIOUS_ACTION, SHOW_METHODS_PAGE_ACTION
from handlers.payments.payloads import MethodsPage
from handlers.payments.screens import show_methods as show_methods_screen


@for_account(AccountRef, surface=opened_surface)
def show_overview(request: Request[AccountRef]) -> None:
    request.show(screens.overview(request.ix, request.caller))


@for_account(AccountRef, surface=opened_surface)
def show_invoices(request: Request[AccountRef]) -> None:
    request.show(screens.invoices(request.ix, request.caller, request.account))


@for_account(AccountRef, surface=opened_surface)
def show_methods(request: Request[AccountRef]) -> None:
    show_methods_screen(request.ix, request.caller, request.account, request.surface)


@for_account(MethodsPage, surface=opened_surface)
def show_methods_page(request: Request[MethodsPage]) -> None:
    show_methods_screen(request.ix, request.caller, request.account, request.surface, request.payload.page)


@for_account(HistoryPage, surface=opened_surface)
def show_history(request: Request[HistoryPage]) -> None:
    request.show(screens.history(request.ix, request.caller, request.account, request.payload.page))


@for_account(AccountRef, surface=opened_surface)
def show_accounts(request: Request[AccountRef]) -> None:
    request.show(screens.accounts(request.ix, request.caller))


def _switch_surface(body: dict[str, Any], client: WebClient) -> Surface:
    """From the Home tab the republished tab is the answer; elsewhere the overview is shown too."""
    view = body.get("view")
    return Nowhere() if isinstance(view, dict) and view.get("type") == "home" else opened_surface(body, client)


def _switch_refused(refusal: Refusal[SwitchChoice]) -> Screen:
    refusal.ix.publish_home()
    return screens.accounts(refusal.ix, refusal.caller).with_notice(OUT_OF_DATE)


@for_account(SwitchChoice, surface=_switch_surface, refused=_switch_refused)
def switch_account(request: Request[SwitchChoice]) -> None:
    switched = request.ix.services.accounts.switch(request.actor, request.account.external_id)
    request.ix.publish_home()
    request.show(screens.overview(request.ix, switched).with_notice(f"Switched to {switched.active.name}."))


def ack_unknown_view(ack: Ack) -> None:
    ack(response_action="update", view=modal("Billing", [section(START_AGAIN)]))


def unknown_action(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """An action id we don't know (an old message after an upgrade): out of date + a fresh view."""
    surface = opened_surface(body, client)
    run_safely(
        body,
        client,
        context,
        lambda ix: surface.show(screens.overview(ix, ix.contact()).with_notice(OUT_OF_DATE)),
        surface=surface,
    )


_SCREENS = {
    SHOW_OVERVIEW_ACTION: show_overview,
    SHOW_INVOICES_ACTION: show_invoices,
    SHOW_METHODS_ACTION: show_methods,
    SHOW_METHODS_PAGE_ACTION: show_methods_page,
    SHOW_HISTORY_ACTION: show_history,
    SHOW_HISTORY_PREVIOUS_ACTION: show_history,
    SHOW_ACCOUNTS_ACTION: show_accounts,
}


def register(app: App) -> None:
    for action_id, show in _SCREENS.items():
        app.action(action_id)(acked(show))
    app.action(SWITCH_ACCOUNT_ACTION)(acked(switch_account))
    # URL buttons open the page in the browser; Slack still expects the action acked.
    app.action(re.compile("^" + re.escape(LINK_ACTION_PREFIX)))(plain_ack)


def register_catch_all(app: App) -> None:
    """Registered last: Bolt runs the first matching listener."""
    app.action(re.compile(".*"))(acked(unknown_action))
    app.view(re.compile(".*"))(ack_unknown_view)
