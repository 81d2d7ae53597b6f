"""Payment-method buttons: Make default, Remove (behind a confirm dialog), Add card (hosted page)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from billing_core.errors import LastPaymentMethodInUse, PaymentInProgress
from handlers.kit.blocks import Screen
from handlers.kit.errors import OUT_OF_DATE, user_message
from handlers.kit.guard import Refusal, Request, acked, for_account, out_of_date
from handlers.kit.ids import ADD_CARD_ACTION, METHOD_MAKE_DEFAULT_ACTION, METHOD_REMOVE_ACTION
from handlers.kit.payloads import AccountRef
from handlers.kit.surfaces import ModalSurface, ResponseUrlSurface, Surface, opened_surface
from handlers.payments.methods_blocks import add_card_screen, methods_screen
from handlers.payments.payloads import MethodTarget
from handlers.payments.screens import autopay_status, list_methods


def _cards_surface(body: dict[str, Any], client: WebClient) -> Surface:
    return opened_surface(body, client, "Payment methods")


def _change_refused(refusal: Refusal[MethodTarget]) -> Screen | None:
    """A card change refused: the cards as Stripe has them now, and why."""
    if refusal.account is None:
        return out_of_date(refusal)
    notice = user_message(refusal.error)
    if not isinstance(refusal.error, (LastPaymentMethodInUse, PaymentInProgress)):
        notice = OUT_OF_DATE + " " + notice
    cards = list_methods(refusal.ix, refusal.caller.actor, refusal.account, refresh=True)
    return methods_screen(refusal.account, cards).with_notice(notice)


@for_account(MethodTarget, surface=_cards_surface, refused=_change_refused)
def make_default(request: Request[MethodTarget]) -> None:
    cards = request.ix.payment_methods.make_default(request.actor, request.account.external_id, request.payload.method)
    autopay = autopay_status(request.ix, request.actor, request.account)
    request.show(methods_screen(request.account, cards, autopay).with_notice("Done: that card is now the default."))
    request.ix.deps.publish_home(request.ix)


@for_account(MethodTarget, surface=_cards_surface, refused=_change_refused)
def remove(request: Request[MethodTarget]) -> None:
    was = autopay_status(request.ix, request.actor, request.account)
    cards = request.ix.payment_methods.remove(request.actor, request.account.external_id, request.payload.method)
    autopay = autopay_status(request.ix, request.actor, request.account)
    notice = "Done: the card was removed."
    if was is not None and was.enabled and autopay is not None and not autopay.enabled:
        notice += " Autopay is now off: there is no card left to charge."
    request.show(methods_screen(request.account, cards, autopay).with_notice(notice))
    request.ix.deps.publish_home(request.ix)


def _add_card_surface(body: dict[str, Any], client: WebClient) -> Surface:
    """From inside a modal, a small one pushed on top; from a message, a new ephemeral reply."""
    view = body.get("view")
    if isinstance(view, dict) and view.get("type") == "modal":
        modal = ModalSurface(client, trigger_id=str(body.get("trigger_id") or "") or None, push=True)
        modal.open("Add a card")
        return modal
    if body.get("response_url"):
        return ResponseUrlSurface(client, str(body["response_url"]), replace=False)
    return _cards_surface(body, client)


@for_account(AccountRef, surface=_add_card_surface)
def add_card(request: Request[AccountRef]) -> None:
    """Create the hosted page and show its link."""
    url = request.ix.payment_methods.start_add_card(request.actor, request.account.external_id)
    request.show(add_card_screen(request.account, str(url)))


def register(app: App) -> None:
    app.action(METHOD_MAKE_DEFAULT_ACTION)(acked(make_default))
    app.action(METHOD_REMOVE_ACTION)(acked(remove))
    app.action(ADD_CARD_ACTION)(acked(add_card))
