"""``/billing autopay [on|off]`` and the autopay buttons: status, confirmation, then the change.

``autopay_command_screen`` is the one entry for any text front end (``/billing``, chat): it never
changes anything by itself; only the confirmation's button does.
"""

from __future__ import annotations

from slack_bolt import App

from billing_core.autopay.switch import AutopayService
from billing_core.views import AccountView, CallerContext
from handlers.autopay.blocks import autopay_screen, confirm_screen
from handlers.autopay.ids import AUTOPAY_SET_ACTION
from handlers.autopay.payloads import AutopaySet
from handlers.kit.blocks import Screen
from handlers.kit.errors import PaymentsUnavailable
from handlers.kit.guard import Request, acked, for_account
from handlers.kit.ids import AUTOPAY_CONFIRM_ACTION
from handlers.kit.interaction import Interaction
from handlers.kit.payloads import AutopayChoice
from handlers.kit.surfaces import opened_surface


def autopay_service(ix: Interaction) -> AutopayService:
    """Autopay; ``PaymentsUnavailable`` without a Stripe key (nothing could be charged)."""
    service = ix.services.chargeable_autopay()
    if service is None:
        raise PaymentsUnavailable()
    return service


def autopay_command_screen(ix: Interaction, caller: CallerContext, argument: str) -> Screen:
    """``autopay`` (status and toggle), ``autopay on`` / ``autopay off`` (the confirmation)."""
    status = autopay_service(ix).status(caller.actor, caller.active.external_id)
    if argument in ("on", "off"):
        return confirm_screen(status, argument == "on")
    return autopay_screen(status)


def status_screen(ix: Interaction, caller: CallerContext, account: AccountView) -> Screen:
    return autopay_screen(autopay_service(ix).status(caller.actor, account.external_id))


@for_account(AutopayChoice, surface=opened_surface)
def confirm(request: Request[AutopayChoice]) -> None:
    status = autopay_service(request.ix).status(request.actor, request.account.external_id)
    request.show(confirm_screen(status, request.payload.on))


@for_account(AutopaySet, surface=opened_surface)
def set_autopay(request: Request[AutopaySet]) -> None:
    service = autopay_service(request.ix)
    account = request.account.external_id
    if request.payload.on:
        status = service.turn_on(request.actor, account, confirmed_card=request.payload.card)
        notice = "Done: autopay is on."
    else:
        status = service.turn_off(request.actor, account)
        notice = "Done: autopay is off."
    request.show(autopay_screen(status).with_notice(notice))
    request.ix.publish_home()


def register(app: App) -> None:
    app.action(AUTOPAY_CONFIRM_ACTION)(acked(confirm))
    app.action(AUTOPAY_SET_ACTION)(acked(set_autopay))
