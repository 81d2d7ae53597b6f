"""Billing support in Slack: the request modal, ``/billing support``, the staff post and "Mark resolved".

Every listener acks at once; the work runs in follow-ups. A request is stored first and
e-mailed by the outbox; the requester gets its reference in a DM (the modal has closed by then).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.container import Services
from billing_core.errors import (
    AccountNotFound,
    BillingError,
    EscalationAlreadyResolved,
    InvalidEscalation,
    InvoiceNotFound,
    UnknownEscalationTopic,
)
from billing_core.escalations.service import validate_message
from billing_core.escalations.views import EscalationView
from billing_core.views import AccountView, CallerContext, InvoiceView
from handlers.escalations.support_blocks import (
    INVOICE_BLOCK,
    INVOICE_INPUT,
    MESSAGE_BLOCK,
    MESSAGE_INPUT,
    NO_INVOICE,
    TOPIC_BLOCK,
    TOPIC_INPUT,
    open_escalations_screen,
    queued_screen,
    resolved_dm,
    staff_post,
    staff_resolved_post,
    support_modal,
    topic_key,
)
from handlers.identity.resolver import parse_principal, principal_for
from handlers.kit.blocks import Screen
from handlers.kit.errors import user_message
from handlers.kit.ids import SUPPORT_MODAL_CALLBACK, SUPPORT_OPEN_ACTION, SUPPORT_RESOLVE_ACTION
from handlers.kit.interaction import Interaction, action_value, first_action, member_account, parse_value, run_safely
from handlers.kit.surfaces import ModalSurface, send_dm, surface_for
from handlers.runtime.follow_up import acked_then

logger = logging.getLogger(__name__)

_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")
STAFF_ONLY = "Only billing staff can resolve requests, from the billing support channel."
NOT_CONFIGURED = "Billing support isn't set up for Slack yet. Please e-mail billing support instead."


# -- the staff channel (the outbox posts through this) ---------------------------------------


class SlackStaffChannel:
    """Posts new escalations to ``SUPPORT_SLACK_CHANNEL`` for billing staff."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def post(self, channel: str, escalation: EscalationView) -> str:
        text, blocks = staff_post(escalation, _slack_user(escalation.requester_principal))
        response = self._client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        return str(response.get("ts") or "")


def attach_staff_channel(services: Services, client: WebClient) -> None:
    """Let the outbox post escalations to the staff channel through ``client`` (when one is set)."""
    if services.escalations is not None and services.escalations.support_channel:
        services.escalations.outbox.staff_channel = SlackStaffChannel(client)


def _slack_user(principal: str) -> str | None:
    parsed = parse_principal(principal)
    return parsed.user_id if parsed and _SLACK_ID.match(parsed.user_id) else None


# -- /billing support [message] ---------------------------------------------------------------


def handle_support_command(*, body: dict[str, Any], client: WebClient, context: BoltContext, message: str) -> None:
    """``/billing support [message]``, called by the command listener after the ack.

    Without a message: the caller's open requests with their status, and a button for a new one.
    With one, the request is created straight away (topic "Something else", the active account, no
    invoice) rather than opening a prefilled modal: the text already says what the person wants,
    and a trigger id may have expired by the time a follow-up runs. Domain errors propagate to
    the caller's ``run_safely``, which shows their text.
    """
    ix = Interaction(body, client, context)
    reply = surface_for(body, client, new_message=True)
    caller = ix.caller()
    if caller is None:
        reply.show(ix.refusal())
        return
    reply.show(support_command_screen(ix, caller, message))


def support_command_screen(ix: Interaction, caller: CallerContext, message: str) -> Screen:
    if not message.strip():
        return open_escalations_screen(caller.active, ix.services.escalations.list_open(caller.actor))
    view = ix.services.escalations.create(caller.actor, caller.active.external_id, "other", message)
    ix.services.escalations.deliver_soon(view)
    return queued_screen(view)


# -- "Contact billing support" button -> modal --------------------------------------------------


def _ack(ack: Ack) -> None:
    ack()


def open_support_modal(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    from_modal = isinstance(body.get("view"), dict) and body["view"].get("type") == "modal"
    surface = ModalSurface(client, trigger_id=_text(body.get("trigger_id")), push=from_modal)
    try:
        surface.open("Billing support")  # first: the trigger id expires within 3 s
    except SlackApiError as error:
        logger.warning("could not open the support modal: %s", error.response.get("error"))
        return

    def work(ix: Interaction) -> None:
        caller = ix.caller()
        if caller is None:
            surface.show(ix.refusal())
            return
        wanted = action_value(body)
        named = wanted.get("account") or caller.active.external_id
        try:
            account = member_account(caller, named)
        except BillingError as error:
            ix.record_refusal(error, account=str(named)[:128], target=str(named))
            raise
        invoice = wanted.get("invoice") if isinstance(wanted.get("invoice"), str) else None
        invoices = _invoices_for(ix, caller, account, invoice)
        surface.show_view(support_modal(account, invoices, invoice=invoice, topic=wanted.get("topic")))

    run_safely(body, client, context, work, surface=surface)


def _invoices_for(
    ix: Interaction, caller: CallerContext, account: AccountView, wanted: str | None
) -> list[InvoiceView]:
    invoices = ix.services.accounts.open_invoices(caller.actor, account.external_id)
    if wanted and all(i.number != wanted for i in invoices):
        try:  # a paid invoice can still be disputed; it must be the caller's, or it is left out
            invoices.insert(0, ix.services.accounts.invoice(caller.actor, account.external_id, wanted))
        except BillingError as error:
            ix.record_refusal(error, target=wanted)
    return invoices


# -- modal submission -------------------------------------------------------------------------


def _submission(view: dict[str, Any]) -> tuple[str | None, str | None, str]:
    values = (view.get("state") or {}).get("values") or {}
    topic_value = ((values.get(TOPIC_BLOCK) or {}).get(TOPIC_INPUT) or {}).get("selected_option") or {}
    invoice_value = ((values.get(INVOICE_BLOCK) or {}).get(INVOICE_INPUT) or {}).get("selected_option") or {}
    message = ((values.get(MESSAGE_BLOCK) or {}).get(MESSAGE_INPUT) or {}).get("value")
    invoice = invoice_value.get("value") if isinstance(invoice_value, dict) else None
    return (
        topic_key(topic_value.get("value") if isinstance(topic_value, dict) else None),
        invoice if isinstance(invoice, str) and invoice != NO_INVOICE else None,
        message if isinstance(message, str) else "",
    )


def ack_submission(ack: Ack, view: dict[str, Any]) -> None:
    """Refuse a bad message or topic inline (the modal stays open), else close the modal."""
    errors = _submission_errors(view if isinstance(view, dict) else {})
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def _submission_errors(view: dict[str, Any]) -> dict[str, str]:
    topic, _, message = _submission(view)
    errors: dict[str, str] = {}
    if topic is None:
        errors[TOPIC_BLOCK] = user_message(UnknownEscalationTopic("missing"))
    try:
        validate_message(message)
    except InvalidEscalation as error:
        errors[MESSAGE_BLOCK] = user_message(error)
    return errors


def submit_support(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    assert isinstance(view, dict)
    if _submission_errors(view):
        return  # follow-ups run after an "errors" ack too; the modal already shows them
    user_id = str((body.get("user") or {}).get("id") or "")
    dm = _DmSurface(client, user_id)

    def work(ix: Interaction) -> None:
        caller = ix.caller()
        if caller is None:
            dm.show(ix.refusal())
            return
        topic, invoice, message = _submission(view)
        named = parse_value(view.get("private_metadata")).get("account")
        try:
            account = member_account(caller, named)
            created = ix.services.escalations.create(
                caller.actor, account.external_id, topic or "", message, invoice_number=invoice
            )
        except (AccountNotFound, InvoiceNotFound) as error:  # forged or stale modal values
            suspect = named if isinstance(error, AccountNotFound) else invoice
            ix.record_refusal(error, account=str(named)[:128], target=str(suspect))
            raise
        dm.show(queued_screen(created))
        ix.services.escalations.deliver_soon(created)

    run_safely(body, client, context, work, surface=dm)


class _DmSurface:
    def __init__(self, client: WebClient, user_id: str) -> None:
        self._client = client
        self._user_id = user_id

    def show(self, screen: Screen) -> None:
        send_dm(self._client, self._user_id, screen)


# -- "Mark resolved" in the staff channel ------------------------------------------------------


def resolve_from_channel(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    def work(ix: Interaction) -> None:
        staff_channel = ix.services.escalations.support_channel
        container = body.get("container") if isinstance(body.get("container"), dict) else {}
        assert isinstance(container, dict)
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        reference = str(first_action(body).get("value") or "")
        if not staff_channel or channel != staff_channel:
            _audit_outsider(ix, reference, channel)
            _ephemeral(client, channel, ix.user_id, STAFF_ONLY if staff_channel else NOT_CONFIGURED)
            return
        staff = principal_for(ix.team_id, ix.user_id)
        try:
            resolved = ix.services.escalations.resolve(reference, staff)
        except EscalationAlreadyResolved as error:
            who = _slack_user(error.resolved_by or "")
            _ephemeral(
                client,
                channel,
                ix.user_id,
                f"{error.reference} was already resolved" + (f" by <@{who}>." if who else "."),
            )
            resolved = ix.services.escalations.get(reference)
            _update_post(client, channel, container, resolved)
            return
        _update_post(client, channel, container, resolved)
        requester = _slack_user(resolved.requester_principal)
        if requester is not None:
            send_dm(client, requester, resolved_dm(resolved))

    run_safely(body, client, context, work, surface=_NoSurface(client, body))


def _audit_outsider(ix: Interaction, reference: str, channel: str) -> None:
    """A resolve click from outside the staff channel is a forged button: refused and audited."""
    try:
        ix.services.audit.record(
            actor=ix.actor, action="forgery.refused", outcome="refused", target=reference[:255] or None,
            detail={"error": "NotBillingStaff", "slack_user": ix.user_id, "channel": channel[:64]},
        )
    except Exception:
        logger.exception("could not audit a refused resolve")


def _update_post(client: WebClient, channel: str, container: dict[str, Any], view: EscalationView) -> None:
    ts = container.get("message_ts")
    if not ts:
        return
    text, blocks = staff_resolved_post(view, _slack_user(view.resolved_by or ""))
    try:
        client.chat_update(channel=channel, ts=str(ts), text=text, blocks=blocks)
    except SlackApiError as error:
        logger.warning("could not update the staff post: %s", error.response.get("error"))


def _ephemeral(client: WebClient, channel: str, user_id: str, text: str) -> None:
    try:
        client.chat_postEphemeral(channel=channel, user=user_id, text=text)
    except SlackApiError as error:
        logger.warning("ephemeral reply failed: %s", error.response.get("error"))


class _NoSurface:
    """Failures in the staff channel are told to the clicker only (ephemeral)."""

    def __init__(self, client: WebClient, body: dict[str, Any]) -> None:
        self._client = client
        self._channel = str(((body.get("container") or {}).get("channel_id")) or "")
        self._user = str((body.get("user") or {}).get("id") or "")

    def show(self, screen: Screen) -> None:
        if self._channel and self._user:
            _ephemeral(self._client, self._channel, self._user, screen.text)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def register(app: App) -> None:
    """Add the support listeners to ``app``, and hand the outbox a way to post to the staff channel.

    The outbox needs a Slack client even when no request is running; the services reach the app
    only through the context, so the first request (the deps middleware runs before this one)
    attaches it. ``attach_staff_channel`` may also be called directly by whoever builds the app.
    """
    app_client = app.client

    def attach(context: BoltContext, next: Callable[[], None]) -> None:
        services = getattr(context.get("deps"), "services", None) or context.get("services")
        escalations = services.escalations if isinstance(services, Services) else None
        if escalations is not None and escalations.outbox.staff_channel is None:
            client = app_client if app_client.token else context.client
            if client is not None and isinstance(services, Services):
                attach_staff_channel(services, client)
        next()

    app.use(attach)
    app.action(SUPPORT_OPEN_ACTION)(acked_then(_ack, open_support_modal))
    app.view(SUPPORT_MODAL_CALLBACK)(acked_then(ack_submission, submit_support))
    app.action(SUPPORT_RESOLVE_ACTION)(acked_then(_ack, resolve_from_channel))
