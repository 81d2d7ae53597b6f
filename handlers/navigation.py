"""Screen buttons (Pay list, Payment methods, History, Switch account), the account select,
URL buttons (acked, nothing else), and the catch-all for unknown or stale actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from billing_core.errors import AccountNotFound, BillingError
from billing_core.views import AccountView, CallerContext
from handlers import screens
from handlers.accounts.home import publish_home
from handlers.kit.blocks import Screen, message_screen, modal, section
from handlers.kit.errors import OUT_OF_DATE
from handlers.kit.ids import (
    LINK_ACTION_PREFIX,
    SHOW_ACCOUNTS_ACTION,
    SHOW_HISTORY_ACTION,
    SHOW_INVOICES_ACTION,
    SHOW_METHODS_ACTION,
    SHOW_OVERVIEW_ACTION,
    SWITCH_ACCOUNT_ACTION,
)
from handlers.kit.interaction import Interaction, action_value, member_account, run_safely
from handlers.kit.surfaces import ModalSurface, Surface, surface_for
from handlers.runtime.follow_up import acked_then

Render = Callable[[Interaction, CallerContext, AccountView, dict[str, Any]], Screen]

_SCREENS: dict[str, Render] = {
    SHOW_OVERVIEW_ACTION: lambda ix, caller, account, value: screens.overview(ix, caller),
    SHOW_INVOICES_ACTION: lambda ix, caller, account, value: screens.invoices(ix, caller, account),
    SHOW_METHODS_ACTION: lambda ix, caller, account, value: screens.methods(ix, caller, account),
    SHOW_HISTORY_ACTION: lambda ix, caller, account, value: screens.history(ix, caller, account, _page(value)),
    SHOW_ACCOUNTS_ACTION: lambda ix, caller, account, value: screens.accounts(ix, caller),
}


def _page(value: dict[str, Any]) -> int:
    page = value.get("page")
    return page if isinstance(page, int) and not isinstance(page, bool) and 0 <= page < 100_000 else 0


def ack_action(ack: Ack) -> None:
    ack()


def _opened_surface(body: dict[str, Any], client: WebClient) -> Surface:
    surface = surface_for(body, client)
    if isinstance(surface, ModalSurface):
        surface.open()
    return surface


def show_screen(body: dict[str, Any], client: WebClient, context: BoltContext, action: dict[str, Any]) -> None:
    surface = _opened_surface(body, client)
    render = _SCREENS.get(str(action.get("action_id")))
    value = action_value(body)
    run_safely(body, client, context, lambda ix: _show(ix, surface, render, value), surface=surface)


def _show(ix: Interaction, surface: Surface, render: Render | None, value: dict[str, Any]) -> None:
    caller = ix.caller()
    if caller is None:
        surface.show(ix.refusal())
        return
    try:
        account = member_account(caller, value.get("account"))
    except BillingError as error:
        ix.record_refusal(error, account=value.get("account"), target=str(value.get("account")))
        surface.show(screens.overview(ix, caller).with_notice(OUT_OF_DATE))
        return
    if render is None:
        surface.show(screens.overview(ix, caller).with_notice(OUT_OF_DATE))
        return
    surface.show(render(ix, caller, account, value))


def switch_account(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    from_home = isinstance(body.get("view"), dict) and body["view"].get("type") == "home"
    surface = None if from_home else _opened_surface(body, client)
    selected = action_value(body).get("value")
    run_safely(body, client, context, lambda ix: _switch(ix, surface, selected), surface=surface)


def _switch(ix: Interaction, surface: Surface | None, selected: object) -> None:
    caller = ix.caller()
    if caller is None:
        if surface is not None:
            surface.show(ix.refusal())
        publish_home(ix)
        return
    try:
        if not isinstance(selected, str) or caller.account(selected) is None:
            raise AccountNotFound(str(selected))
        switched = ix.services.accounts.switch(caller.actor, selected)
    except BillingError as error:
        ix.record_refusal(error, account=None, target=str(selected))
        if surface is not None:
            surface.show(screens.accounts(ix, caller).with_notice(OUT_OF_DATE))
        publish_home(ix)
        return
    publish_home(ix)
    if surface is not None:
        surface.show(screens.overview(ix, switched).with_notice(f"Switched to {switched.active.name}."))


def ack_link(ack: Ack) -> None:
    """URL buttons open the page in the browser; Slack still expects the action acked."""
    ack()


def ack_unknown_view(ack: Ack) -> None:
    text = "This is out of date. Please start again with `/billing`."
    ack(response_action="update", view=modal("Billing", [section(text)]))


def unknown_action(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """An action id we don't know (an old message after an upgrade): out of date + a fresh view."""
    surface = _opened_surface(body, client)
    run_safely(body, client, context, lambda ix: _unknown(ix, surface), surface=surface)


def _unknown(ix: Interaction, surface: Surface) -> None:
    caller = ix.caller()
    if caller is None:
        surface.show(ix.refusal())
        return
    surface.show(screens.overview(ix, caller).with_notice(OUT_OF_DATE))


def support_fallback(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Used only while the escalations capability is absent: point at the support address."""
    surface = _opened_surface(body, client)
    run_safely(
        body, client, context,
        lambda ix: surface.show(message_screen(f"To reach billing support, e-mail {ix.deps.support_email}.")),
        surface=surface,
    )


def register(app: App) -> None:
    for action_id in _SCREENS:
        app.action(action_id)(acked_then(ack_action, show_screen))
    app.action(SWITCH_ACCOUNT_ACTION)(acked_then(ack_action, switch_account))
    app.action(re.compile("^" + re.escape(LINK_ACTION_PREFIX)))(ack_link)


def register_catch_all(app: App) -> None:
    """Registered last: Bolt runs the first matching listener."""
    app.action(re.compile(".*"))(acked_then(ack_action, unknown_action))
    app.view(re.compile(".*"))(ack_unknown_view)
