"""Payments' screens: the account's cards (as Stripe holds them), autopay's state for them, the history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from billing_core.autopay.switch import AutopayStatus
from billing_core.payments.methods import CARDS_FRESH_FOR, CardsCopy
from billing_core.views import AccountView, Actor, CallerContext, PaymentMethodView
from handlers.kit.blocks import Screen
from handlers.kit.interaction import Interaction
from handlers.kit.surfaces import ModalSurface, ResponseUrlSurface, Surface, screen_view
from handlers.payments.blocks import history_screen, methods_screen


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


def recheck_later(ix: Interaction, copy: CardsCopy, redraw: Callable[[list[PaymentMethodView]], object]) -> None:
    """Ask Stripe for ``copy``'s cards off the request thread (the follow-up pool), store them, and
    ``redraw`` with them when Stripe disagrees with what was shown."""
    cards = ix.payment_methods

    def recheck() -> None:
        fresh = cards.recheck(copy)
        if fresh is not None:
            redraw(fresh)

    ix.deps.later.run(recheck)


def methods(ix: Interaction, caller: CallerContext, account: AccountView, page: int = 0) -> Screen:
    """The card list a person asked for: asked of Stripe now, so a card added or removed there
    without a webhook shows (the cached copy if Stripe cannot answer)."""
    cards = list_methods(ix, caller.actor, account, max_age=timedelta(0))
    return methods_screen(account, cards, autopay_status(ix, caller.actor, account, cards), page=page)


def show_methods(ix: Interaction, caller: CallerContext, account: AccountView, surface: Surface, page: int = 0) -> None:
    """The card list shown at once from the copy, then checked with Stripe in the background (on
    every open: this screen's copy is never fresh enough to skip that) and corrected in place when
    Stripe differs (a card added or removed there without a webhook): a modal through
    ``views.update`` with the view's hash, a clicked message or ``/billing methods``'s reply
    through its ``response_url`` (``replace_original``). Elsewhere (a new reply to a click) Stripe
    is asked first, as ``methods``. Without a copy (never read from Stripe) Stripe is asked first too."""
    correctable = isinstance(surface, ModalSurface) or (isinstance(surface, ResponseUrlSurface) and surface.correctable)
    copy = ix.payment_methods.copy(caller.actor, account.external_id, max_age=timedelta(0))
    if not correctable or not copy.cards:
        surface.show(methods(ix, caller, account, page))
        return
    surface.show(methods_screen(account, copy.cards, autopay_status(ix, caller.actor, account, copy.cards), page=page))

    def redraw(cards: list[PaymentMethodView]) -> None:
        screen = methods_screen(account, cards, autopay_status(ix, caller.actor, account, cards), page=page)
        if isinstance(surface, ModalSurface):
            surface.correct(screen_view(screen))
        elif isinstance(surface, ResponseUrlSurface):
            surface.correct(screen)

    recheck_later(ix, copy, redraw)


def autopay_status(
    ix: Interaction, actor: Actor, account: AccountView, shown: Sequence[PaymentMethodView] = ()
) -> AutopayStatus | None:
    """The account's autopay for a screen; None when nothing could be charged (no Stripe key).
    ``shown``: the cards the screen just read, which spare a second read of the copy when one of
    them is the default."""
    service = ix.services.chargeable_autopay()
    if service is None:
        return None
    return service.status(actor, account.external_id, default_known=any(card.is_default for card in shown))


def history(ix: Interaction, caller: CallerContext, account: AccountView, page: int = 0) -> Screen:
    payments, outside = ix.services.history.page_with_outside(caller.actor, account.external_id, page, 10)
    return history_screen(account, payments, outside)
