"""The pay flow: Pay button -> modal (summary, card, exact amount) -> submit -> outcome.

The submission is acked at once with a "Processing…" view; the charge runs in the
follow-up, then the modal shows the outcome and the same outcome goes to the caller's DM, so a
late or lost modal update never hides what happened.
"""

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
    InvoiceAlreadyPaid,
    InvoiceNotFound,
    InvoiceNotPayable,
    NothingToPay,
    PaymentInProgress,
    PaymentMethodNotFound,
)
from billing_core.views import AccountView, CallerContext, PaymentView
from handlers import screens
from handlers.accounts.home import publish_home
from handlers.kit.blocks import Screen, message_screen, modal
from handlers.kit.errors import OUT_OF_DATE, is_stale, user_message
from handlers.kit.ids import PAY_METHOD_BLOCK, PAY_METHOD_SELECT, PAY_MODAL_CALLBACK, PAY_OPEN_ACTION
from handlers.kit.interaction import Interaction, action_value, member_account, parse_value, run_safely
from handlers.kit.surfaces import ModalSurface, Surface, send_dm, surface_for
from handlers.payments.pay_blocks import outcome_screen, partial_payment_screen, pay_modal, processing_view
from handlers.runtime.follow_up import acked_then

logger = logging.getLogger(__name__)


# -- opening the modal ---------------------------------------------------------------------


def open_modal_now(client: WebClient, body: dict[str, Any], *, fallback: Surface | None = None) -> ModalSurface | None:
    """The modal to show the pay flow in: the one clicked in, or a new one opened right now."""
    surface = modal_for(client, body, fallback=fallback)
    try:
        surface.open("Confirm payment")
    except SlackApiError as error:
        logger.warning("views.open failed: %s", error.response.get("error"))
        return None
    return surface


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


def show_pay_modal(ix: Interaction, caller: CallerContext, surface: ModalSurface, account: AccountView,
                   invoice: str | None) -> None:
    """Fill the modal for one invoice or the full balance; errors propagate to the caller."""
    payments, methods_service = ix.services.payments, ix.services.payment_methods
    if payments is None or methods_service is None:
        surface.show(message_screen(screens.PAYMENTS_UNAVAILABLE))
        return
    if invoice is not None:
        found = ix.services.accounts.invoice(caller.actor, account.external_id, invoice)
        if found.status == "paid":
            raise InvoiceAlreadyPaid(invoice)
        if found.status != "open" or found.outstanding.amount_minor <= 0:
            raise InvoiceNotPayable(invoice)
        if found.payment_in_progress:
            raise PaymentInProgress(invoice)
        invoices, amount = [found], found.outstanding
    else:
        # The summary is computed from the very invoices listed, so the total matches the rows.
        account, invoices = ix.services.accounts.open_account(caller.actor, account.external_id)
        if not invoices:
            raise NothingToPay(account.external_id)
        if any(i.payment_in_progress for i in invoices):
            raise PaymentInProgress(account.external_id)
        amount = account.balance
    methods = screens.list_methods(ix, caller.actor, account, before_stripe=_loading_first(surface))
    surface.show_view(pay_modal(account, invoices, amount, methods, invoice=invoice))


def refused(ix: Interaction, caller: CallerContext, surface: Surface, error: BillingError, **detail: Any) -> None:
    """A stale or forged value: say so, change nothing, show the account's current invoices."""
    ix.record_refusal(error, **detail)
    named = detail.get("account")
    account = caller.account(named) if isinstance(named, str) else None
    notice = user_message(error) if not isinstance(error, AccountNotFound) else OUT_OF_DATE
    screen = screens.overview(ix, caller) if account is None else screens.current_invoices(ix, caller, account)
    surface.show(screen.with_notice(notice))


def fill_pay_modal_from_command(ix: Interaction, surface: ModalSurface, invoice: str | None) -> None:
    """``/billing pay <invoice number>`` or ``/billing pay balance`` in an already open modal."""
    caller = ix.caller()
    if caller is None:
        surface.show(ix.refusal())
        return
    account = caller.active
    if invoice is not None:
        owner = _account_with_invoice(ix, caller, invoice)
        if owner is None:
            open_invoices = ix.services.accounts.open_invoices(caller.actor, account.external_id)
            surface.show(partial_payment_screen(account, invoice, open_invoices))
            return
        account = owner
    try:
        show_pay_modal(ix, caller, surface, account, invoice)
    except BillingError as error:
        refused(ix, caller, surface, error, account=account.external_id, target=invoice or "balance")


def _account_with_invoice(ix: Interaction, caller: CallerContext, number: str) -> AccountView | None:
    """The caller's account holding invoice ``number``: the active account first."""
    holders = ix.services.accounts.accounts_with_invoice(caller.actor, number)
    ordered = [caller.active, *(a for a in caller.accounts if a.external_id != caller.active.external_id)]
    return next((account for account in ordered if account.external_id in holders), None)


def ack_pay_open(ack: Ack) -> None:
    ack()


def pay_open(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A Pay button (overview, invoice list, Home, decline's "Try another card", a reminder)."""
    # No loading modal first: the reads take milliseconds, so the modal opens with its content
    # (one views.open) unless the cards must come from Stripe (then loading first, see above).
    surface = modal_for(client, body, fallback=surface_for(body, client, new_message=True))
    value = action_value(body)
    run_safely(body, client, context, lambda ix: _pay_open(ix, surface, value), surface=surface)


def open_pay_from_value(ix: Interaction, surface: ModalSurface, value: dict[str, Any]) -> None:
    """Show the pay modal for a ``{"account", "invoice"}`` / ``{"account", "balance": true}`` value."""
    _pay_open(ix, surface, value)


def _pay_open(ix: Interaction, surface: ModalSurface, value: dict[str, Any]) -> None:
    caller = ix.caller()
    if caller is None:
        surface.show(ix.refusal())
        return
    invoice = value.get("invoice")
    try:
        account = member_account(caller, value.get("account"))
        if isinstance(invoice, str) and invoice:
            show_pay_modal(ix, caller, surface, account, invoice)
        elif value.get("balance") is True:
            show_pay_modal(ix, caller, surface, account, None)
        else:
            raise InvoiceNotFound(str(invoice))
    except BillingError as error:
        refused(ix, caller, surface, error, account=value.get("account"),
                target=_suspect(error, value.get("account"), invoice, None))


# -- submitting -----------------------------------------------------------------------------


def _submission(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    assert isinstance(view, dict)
    metadata = parse_value(view.get("private_metadata"))
    state = view.get("state") if isinstance(view.get("state"), dict) else {}
    assert isinstance(state, dict)
    values = state.get("values") if isinstance(state.get("values"), dict) else {}
    assert isinstance(values, dict)
    block = values.get(PAY_METHOD_BLOCK) if isinstance(values.get(PAY_METHOD_BLOCK), dict) else {}
    assert isinstance(block, dict)
    select = block.get(PAY_METHOD_SELECT) if isinstance(block.get(PAY_METHOD_SELECT), dict) else {}
    assert isinstance(select, dict)
    option = select.get("selected_option")
    method = option.get("value") if isinstance(option, dict) else None
    return metadata, method if isinstance(method, str) and method else None


def ack_pay_submit(ack: Ack, body: dict[str, Any]) -> None:
    """No I/O here: validate the shape, then show "Processing…" (the charge runs lazily)."""
    _, method = _submission(body)
    if method is None:
        ack(response_action="errors", errors={PAY_METHOD_BLOCK: "Choose a card to pay with."})
        return
    ack(response_action="update", view=processing_view())


def pay_submit(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    metadata, method = _submission(body)
    if method is None:
        return
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    assert isinstance(view, dict)
    surface = ModalSurface(client, view_id=str(view.get("id") or "") or None)
    run_safely(body, client, context, lambda ix: _pay(ix, surface, metadata, method), surface=surface)


def _pay(ix: Interaction, surface: ModalSurface, metadata: dict[str, Any], method: str) -> None:
    caller = ix.caller()
    if caller is None:
        surface.show(ix.refusal())
        return
    payments = ix.services.payments
    invoice, expected = metadata.get("invoice"), metadata.get("expected")
    if payments is None:
        surface.show(message_screen(screens.PAYMENTS_UNAVAILABLE))
        return
    try:
        account = member_account(caller, metadata.get("account"))
        if isinstance(invoice, str) and invoice:
            started: PaymentView = payments.start_invoice_payment(caller.actor, account.external_id, invoice, method)
        elif metadata.get("balance") is True and isinstance(expected, int) and not isinstance(expected, bool):
            started = payments.start_balance_payment(caller.actor, account.external_id, method, expected)
        else:
            raise InvoiceNotFound(str(invoice))
    except BillingError as error:
        if not is_stale(error) and not isinstance(error, PaymentInProgress):
            surface.show(message_screen(user_message(error)))
            return
        if ix.deps.outcomes.shown(surface.view_id):
            return  # this modal already shows a payment's outcome (a double click): keep it
        refused(ix, caller, surface, error, account=metadata.get("account"),
                target=_suspect(error, metadata.get("account"), invoice, method), method=method)
        return
    try:
        payment = payments.execute(started.id)
    except BillingError as error:
        logger.warning("payment %s: %s", started.id, type(error).__name__)
        payment = payments.get(caller.actor, account.external_id, started.id)
    screen = outcome_screen(payment, account.name)
    ix.deps.outcomes.mark(surface.view_id)
    show_outcome(ix, surface, screen)


def _suspect(error: BillingError, account: object, invoice: object, method: str | None) -> str:
    """The payload value an audit reader should look at for this refusal."""
    if isinstance(error, PaymentMethodNotFound) and method:
        return method
    if isinstance(error, AccountNotFound):
        return str(account)
    return str(invoice or "balance")


def show_outcome(ix: Interaction, surface: ModalSurface, screen: Screen) -> None:
    try:
        surface.show_view(modal(screen.title, screen.blocks, close="Done"))
    except Exception:
        logger.exception("could not show the payment outcome in the modal")
    send_dm(ix.client, ix.user_id, screen)
    publish_home(ix)


def register(app: App) -> None:
    app.action(PAY_OPEN_ACTION)(acked_then(ack_pay_open, pay_open))
    app.view(PAY_MODAL_CALLBACK)(acked_then(ack_pay_submit, pay_submit))
