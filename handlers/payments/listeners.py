"""The pay flow: Pay button -> modal (summary, card, exact amount) -> submit -> outcome.

The submission is acked at once with a "Processing…" view; the charge runs in the
follow-up, then the modal shows the outcome and the same outcome goes to the caller's DM, so a
late or lost modal update never hides what happened.

Payment-method buttons: Make default, Remove (behind a confirm dialog), Add card (hosted page)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.errors import (
    AccountNotFound,
    BillingError,
    LastPaymentMethodInUse,
    PaymentInProgress,
)
from billing_core.payments.dm_threads import DmThread
from billing_core.views import AccountView, CallerContext
from handlers.kit.blocks import Screen, message_screen, modal
from handlers.kit.errors import OUT_OF_DATE, is_stale, user_message
from handlers.kit.guard import Refusal, Request, acked, for_account, out_of_date
from handlers.kit.ids import ADD_CARD_ACTION, PAY_OPEN_ACTION
from handlers.kit.interaction import Interaction
from handlers.kit.payloads import AccountRef, PayTarget, SubmittedView
from handlers.kit.payment_outcome import outcome_screen
from handlers.kit.surfaces import (
    ModalSurface,
    ResponseUrlSurface,
    Surface,
    modal_of,
    opened_surface,
    post_dm,
    surface_for,
)
from handlers.payments.blocks import add_card_screen, methods_screen, partial_payment_screen, pay_modal, processing_view
from handlers.payments.ids import METHOD_MAKE_DEFAULT_ACTION, METHOD_REMOVE_ACTION, PAY_METHOD_BLOCK, PAY_MODAL_CALLBACK
from handlers.payments.payloads import MethodTarget, PaySubmission, chosen_method
from handlers.payments.screens import autopay_status, list_methods, recheck_later
from handlers.runtime.follow_up import acked_then, nothing_left_to_do

logger = logging.getLogger(__name__)


def open_modal_now(client: WebClient, body: dict[str, Any], *, fallback: Surface | None = None) -> ModalSurface | None:
    """The modal to show the pay flow in: the one clicked in, or a new one opened right now."""
    surface = modal_for(client, body, fallback=fallback)
    try:
        surface.open("Confirm payment")
    except SlackApiError as error:
        logger.warning("views.open failed: %s", error.response.get("error"))
        return None
    return surface


def ack_pay_open(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Ack the Pay click, then open the modal with its content right here, on the request's own
    thread: the reads take milliseconds and the cards come from the account's copy (Stripe is
    asked afterwards, off this thread), so one ``views.open`` shows the filled modal.

    A trigger id works once and for 3 seconds (docs.slack.dev/tools/bolt-python/concepts/opening-modals);
    the follow-up runs on the listener pool, which may be busy with other people's slow work
    (Stripe, Slack's 429s), so waiting for it could let the trigger expire. Clicked inside a modal,
    that modal is updated by the follow-up instead and nothing is opened.
    """
    ack()
    view = body.get("view")
    trigger_id = body.get("trigger_id")
    if (isinstance(view, dict) and view.get("type") == "modal") or not isinstance(trigger_id, str) or not trigger_id:
        return
    nothing_left_to_do(context)  # the follow-up's work is done here
    pay_open(body, client, context)


def modal_for(client: WebClient, body: dict[str, Any], *, fallback: Surface | None = None) -> ModalSurface:
    """The modal to show the pay flow in: the one clicked in, or a new one that opens with its content."""
    view = body.get("view")
    if isinstance(view, dict) and view.get("type") == "modal" and view.get("id"):
        return ModalSurface(client, view_id=str(view["id"]))
    return ModalSurface(client, trigger_id=str(body.get("trigger_id") or "") or None, fallback=fallback)


def _loading_first(surface: ModalSurface) -> Callable[[], None]:
    """Put up the loading modal before something slow (Stripe), while the trigger id is valid."""

    def put_up() -> None:
        try:
            surface.open("Confirm payment")
        except SlackApiError as error:  # the fallback has said so
            logger.warning("views.open failed: %s", error.response.get("error"))

    return put_up


def show_pay_modal(
    ix: Interaction, caller: CallerContext, surface: ModalSurface, account: AccountView, invoice: str | None
) -> None:
    """Fill the modal for one invoice or the full balance; errors propagate to the caller."""
    # What would be paid, or why not: the same rule the payment itself applies.
    quote = ix.payments.quote(caller.actor, account, invoice)
    copy = ix.payment_methods.copy(caller.actor, quote.account.external_id)
    if not copy.cards:  # never read from Stripe (or no card): a loading view, then Stripe, off this thread
        _loading_first(surface)()

        def from_stripe() -> None:
            methods = list_methods(ix, caller.actor, quote.account)
            surface.show_view(pay_modal(quote.account, quote.invoices, quote.amount, methods, invoice=invoice))

        ix.deps.later.run(from_stripe)
        return
    # From the copy at once, whatever its age (webhooks keep it current); when it is older than
    # CARDS_FRESH_FOR, Stripe is asked off the request thread and the modal corrected in place if
    # it differs. The charge checks the chosen card with Stripe on the server either way.
    surface.show_view(pay_modal(quote.account, quote.invoices, quote.amount, copy.cards, invoice=invoice))
    if copy.stale:
        recheck_later(
            ix,
            copy,
            lambda cards: surface.correct(
                pay_modal(quote.account, quote.invoices, quote.amount, cards, invoice=invoice)
            ),
        )


def refused_screen(ix: Interaction, caller: CallerContext, account: AccountView | None, error: BillingError) -> Screen:
    """A stale or forged value: say so, change nothing, show the account's current invoices."""
    notice = user_message(error) if not isinstance(error, AccountNotFound) else OUT_OF_DATE
    screen = ix.deps.overview_screen(ix, caller) if account is None else ix.deps.invoices_screen(ix, caller, account)
    return screen.with_notice(notice)


def fill_pay_modal_from_command(ix: Interaction, surface: ModalSurface, invoice: str | None) -> None:
    """``/billing pay <invoice number>`` or ``/billing pay balance`` in an already open modal."""
    caller = ix.contact()
    account = caller.active
    if invoice is not None:
        owner = _account_with_invoice(ix, caller, invoice)
        if owner is None:
            open_invoices = ix.services.accounts.open_invoices(caller.actor, account.external_id)
            surface.show(partial_payment_screen(account, invoice, open_invoices))
            return
        account = owner
    fill_pay_modal(ix, caller, surface, account, invoice)


def fill_pay_modal(
    ix: Interaction, caller: CallerContext, surface: ModalSurface, account: AccountView, invoice: str | None
) -> None:
    """The pay modal for one invoice or the full balance of ``account``, or the refusal in its place."""
    try:
        show_pay_modal(ix, caller, surface, account, invoice)
    except BillingError as error:
        ix.record_refusal(error, account=account.external_id, target=invoice or "balance")
        surface.show(refused_screen(ix, caller, account, error))


def _account_with_invoice(ix: Interaction, caller: CallerContext, number: str) -> AccountView | None:
    """The caller's account holding invoice ``number``: the active account first."""
    holders = ix.services.accounts.accounts_with_invoice(caller.actor, number)
    ordered = [caller.active, *(a for a in caller.accounts if a.external_id != caller.active.external_id)]
    return next((account for account in ordered if account.external_id in holders), None)


def _pay_modal_surface(body: dict[str, Any], client: WebClient) -> ModalSurface:
    # No loading modal first: the reads take milliseconds, so the modal opens with its content
    # (one views.open) unless the cards must come from Stripe (then loading first, see above).
    return modal_for(client, body, fallback=surface_for(body, client, new_message=True))


def _open_refused(refusal: Refusal[PayTarget]) -> Screen:
    return refused_screen(refusal.ix, refusal.caller, refusal.account, refusal.error)


@for_account(PayTarget, surface=_pay_modal_surface, refused=_open_refused)
def pay_open(request: Request[PayTarget]) -> None:
    """A Pay button (overview, invoice list, Home, decline's "Try another card", a reminder)."""
    show_pay_modal(request.ix, request.caller, modal_of(request.surface), request.account, request.payload.invoice)


def ack_pay_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """No I/O here: check a card was chosen, then show "Processing…" (the charge runs after)."""
    if chosen_method(SubmittedView.of(body)) is None:
        nothing_left_to_do(context)
        ack(response_action="errors", errors={PAY_METHOD_BLOCK: "Choose a card to pay with."})
        return
    ack(response_action="update", view=processing_view())


def _submitted_modal(body: dict[str, Any], client: WebClient) -> ModalSurface:
    return ModalSurface(client, view_id=SubmittedView.of(body).id)


def _submit_refused(refusal: Refusal[PaySubmission]) -> Screen | None:
    error = refusal.error
    if not is_stale(error) and not isinstance(error, PaymentInProgress):
        return message_screen(user_message(error))
    if refusal.ix.deps.outcomes.shown(modal_of(refusal.surface).view_id):
        return None  # this modal already shows a payment's outcome (a double click): keep it
    return refused_screen(refusal.ix, refusal.caller, refusal.account, error)


@for_account(PaySubmission, surface=_submitted_modal, refused=_submit_refused)
def pay_submit(request: Request[PaySubmission]) -> None:
    """Charge the card chosen, then show the outcome (modal, DM and Home)."""
    target = request.payload.target
    payment = request.ix.payments.pay(
        request.actor,
        request.account.external_id,
        request.payload.method,
        invoice_number=target.invoice,
        expected_amount_minor=target.expected,
    )
    surface = modal_of(request.surface)
    request.ix.deps.outcomes.mark(surface.view_id)
    dm = show_outcome(request.ix, surface, outcome_screen(payment, request.account.name))
    if dm is not None and payment.status == "succeeded":
        # The receipt's DM: a later refund or dispute is told in its thread.
        request.ix.payments.remember_receipt_dm(request.actor, payment.id, dm)
    request.ix.publish_home()


def show_outcome(ix: Interaction, surface: ModalSurface, screen: Screen) -> DmThread | None:
    """The outcome in the modal, then in the payer's DM; where the DM went is answered."""
    try:
        surface.show_view(modal(screen.title, screen.blocks, close="Done"))
    except Exception:
        logger.exception("could not show the payment outcome in the modal")
    return post_dm(ix.client, ix.user_id, screen)


def _register_pay(app: App) -> None:
    app.action(PAY_OPEN_ACTION)(acked_then(ack_pay_open, pay_open))
    app.view(PAY_MODAL_CALLBACK)(acked_then(ack_pay_submit, pay_submit))


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
    request.ix.publish_home()


@for_account(MethodTarget, surface=_cards_surface, refused=_change_refused)
def remove(request: Request[MethodTarget]) -> None:
    was = autopay_status(request.ix, request.actor, request.account)
    cards = request.ix.payment_methods.remove(request.actor, request.account.external_id, request.payload.method)
    autopay = autopay_status(request.ix, request.actor, request.account)
    notice = "Done: the card was removed."
    if was is not None and was.enabled and autopay is not None and not autopay.enabled:
        notice += " Autopay is now off: there is no card left to charge."
    request.show(methods_screen(request.account, cards, autopay).with_notice(notice))
    request.ix.publish_home()


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


def _register_methods(app: App) -> None:
    app.action(METHOD_MAKE_DEFAULT_ACTION)(acked(make_default))
    app.action(METHOD_REMOVE_ACTION)(acked(remove))
    app.action(ADD_CARD_ACTION)(acked(add_card))


def register(app: App) -> None:
    _register_pay(app)
    _register_methods(app)
