"""Payment-method buttons: Make default, Remove (behind a confirm dialog), Add card (hosted page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from billing_core.errors import BillingError, LastPaymentMethodInUse, PaymentInProgress, PaymentMethodNotFound
from billing_core.views import AccountView, CallerContext, PaymentMethodView
from handlers import screens
from handlers.accounts.home import publish_home
from handlers.kit.blocks import message_screen
from handlers.kit.errors import OUT_OF_DATE, user_message
from handlers.kit.ids import ADD_CARD_ACTION, METHOD_MAKE_DEFAULT_ACTION, METHOD_REMOVE_ACTION
from handlers.kit.interaction import Interaction, action_value, member_account, run_safely
from handlers.kit.surfaces import ModalSurface, ResponseUrlSurface, Surface, surface_for
from handlers.payments.methods_blocks import add_card_screen, methods_screen
from handlers.runtime.follow_up import acked_then

Change = Callable[[Interaction, CallerContext, AccountView, str], list[PaymentMethodView]]


def ack_action(ack: Ack) -> None:
    ack()


def _make_default(ix: Interaction, caller: CallerContext, account: AccountView, method: str) -> list[PaymentMethodView]:
    cards: list[PaymentMethodView] = ix.services.payment_methods.make_default(caller.actor, account.external_id, method)
    return cards


def _remove(ix: Interaction, caller: CallerContext, account: AccountView, method: str) -> list[PaymentMethodView]:
    cards: list[PaymentMethodView] = ix.services.payment_methods.remove(caller.actor, account.external_id, method)
    return cards


def _change(ix: Interaction, surface: Surface, value: dict[str, Any], change: Change, done: str) -> None:
    caller = ix.caller()
    if caller is None:
        surface.show(ix.refusal())
        return
    if ix.services.payment_methods is None:
        surface.show(message_screen(screens.PAYMENTS_UNAVAILABLE))
        return
    method = value.get("method")
    try:
        account = member_account(caller, value.get("account"))
    except BillingError as error:
        ix.record_refusal(error, account=value.get("account"), target=str(method))
        surface.show(screens.overview(ix, caller).with_notice(OUT_OF_DATE))
        return
    try:
        if not isinstance(method, str) or not method:
            raise PaymentMethodNotFound(str(method))
        cards = change(ix, caller, account, method)
    except BillingError as error:
        ix.record_refusal(error, account=account.external_id, target=str(method))
        notice = user_message(error)
        if not isinstance(error, (LastPaymentMethodInUse, PaymentInProgress)):
            notice = OUT_OF_DATE + " " + notice
        surface.show(methods_screen(account, screens.list_methods(ix, caller.actor, account, refresh=True))
                     .with_notice(notice))
        return
    surface.show(methods_screen(account, cards).with_notice(done))
    publish_home(ix)


def make_default(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    surface = _surface(body, client)
    value = action_value(body)
    run_safely(body, client, context,
               lambda ix: _change(ix, surface, value, _make_default, "Done: that card is now the default."),
               surface=surface)


def remove(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    surface = _surface(body, client)
    value = action_value(body)
    run_safely(body, client, context, lambda ix: _change(ix, surface, value, _remove, "Done: the card was removed."),
               surface=surface)


def _surface(body: dict[str, Any], client: WebClient) -> Surface:
    surface = surface_for(body, client)
    if isinstance(surface, ModalSurface):
        surface.open("Payment methods")
    return surface


def add_card(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Create the hosted page and show its link; from inside a modal, push a small one on top."""
    view = body.get("view") if isinstance(body.get("view"), dict) else None
    surface: Surface
    if isinstance(view, dict) and view.get("type") == "modal":
        modal = ModalSurface(client, trigger_id=str(body.get("trigger_id") or "") or None, push=True)
        modal.open("Add a card")
        surface = modal
    elif body.get("response_url"):
        surface = ResponseUrlSurface(client, str(body["response_url"]), replace=False)
    else:
        surface = _surface(body, client)
    value = action_value(body)
    run_safely(body, client, context, lambda ix: _add_card(ix, surface, value), surface=surface)


def _add_card(ix: Interaction, surface: Surface, value: dict[str, Any]) -> None:
    caller = ix.caller()
    if caller is None:
        surface.show(ix.refusal())
        return
    if ix.services.payment_methods is None:
        surface.show(message_screen(screens.PAYMENTS_UNAVAILABLE))
        return
    try:
        account = member_account(caller, value.get("account"))
    except BillingError as error:
        ix.record_refusal(error, account=value.get("account"), target="add_card")
        surface.show(screens.overview(ix, caller).with_notice(OUT_OF_DATE))
        return
    url = ix.services.payment_methods.start_add_card(caller.actor, account.external_id)
    surface.show(add_card_screen(account, str(url)))


def register(app: App) -> None:
    app.action(METHOD_MAKE_DEFAULT_ACTION)(acked_then(ack_action, make_default))
    app.action(METHOD_REMOVE_ACTION)(acked_then(ack_action, remove))
    app.action(ADD_CARD_ACTION)(acked_then(ack_action, add_card))
