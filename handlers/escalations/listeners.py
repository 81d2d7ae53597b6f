"""Billing support in Slack: the request modal, ``/billing support``, the staff post and "Mark resolved".

Every listener acks at once; the work runs in follow-ups. A request is stored first and
e-mailed by the outbox; the requester gets its reference in a DM (the modal has closed by then).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.container import Services
from billing_core.errors import (
    BillingError,
    EscalationAlreadyResolved,
    InvalidEscalation,
    UnknownEscalationTopic,
)
from billing_core.escalations.service import validate_message
from billing_core.escalations.views import EscalationView
from billing_core.identity.principal import parse_principal, principal_for
from billing_core.views import AccountView, CallerContext, InvoiceView
from handlers.escalations.blocks import (
    file_offer_withdrawn_screen,
    file_request_message,
    open_escalations_screen,
    queued_screen,
    resolved_dm,
    staff_post,
    staff_resolved_post,
    support_modal,
    topic_key,
)
from handlers.escalations.ids import (
    SUPPORT_FILE_CANCEL_ACTION,
    SUPPORT_FILE_SEND_ACTION,
    SUPPORT_MODAL_CALLBACK,
    SUPPORT_RESOLVE_ACTION,
)
from handlers.escalations.payloads import (
    MESSAGE_BLOCK,
    TOPIC_BLOCK,
    EscalationRef,
    FileOffer,
    SupportForm,
    SupportSubmission,
)
from handlers.escalations.staff_channel_check import StaffChannelCheck, channel_problem
from handlers.kit.blocks import Screen
from handlers.kit.errors import MalformedPayload, user_message
from handlers.kit.guard import Request, acked, for_account, say_why
from handlers.kit.ids import SUPPORT_OPEN_ACTION
from handlers.kit.interaction import Interaction, run_safely
from handlers.kit.payloads import SubmittedView, SupportTarget
from handlers.kit.surfaces import DmSurface, ModalSurface, ResponseUrlSurface, Surface, modal_of, send_dm, surface_for
from handlers.runtime.follow_up import acked_then, nothing_left_to_do

logger = logging.getLogger(__name__)

_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")
# A second "Send to billing support" on the same offer inside this returns the first request.
DOUBLE_CLICK_WINDOW = timedelta(minutes=10)
STAFF_ONLY = "Only billing staff can resolve requests, from the billing support channel."
NOT_CONFIGURED = "Billing support isn't set up for Slack yet. Please e-mail billing support instead."
PUBLIC_CHANNEL = (
    "Requests can only be resolved from a private support channel that is not shared with another "
    "organization: others could read and resolve them. Ask an admin to make this channel private and unshared."
)


# -- the staff channel (the outbox posts through this) ---------------------------------------


class SlackStaffChannel:
    """Posts new escalations to ``SUPPORT_SLACK_CHANNEL`` for billing staff, through the
    installation of the workspace that holds it (``SUPPORT_SLACK_TEAM`` with several workspaces),
    never through whichever customer's workspace happened to send a request first."""

    def __init__(self, client_source: Callable[[], WebClient | None], check: StaffChannelCheck | None = None) -> None:
        self._client_source = client_source
        self.check = check

    def problem(self) -> str | None:
        """Why nothing may be posted to the channel now (public, shared, unreadable), or ``None``."""
        return self.check.problem() if self.check is not None else None

    def post(self, channel: str, escalation: EscalationView) -> str:
        client = self._client_source()
        if client is None:  # the outbox keeps the post and tries again later
            raise RuntimeError("no Slack installation for the support channel's workspace (SUPPORT_SLACK_TEAM)")
        problem = self.problem()
        if problem is not None:  # never post customers' requests where outsiders read them
            logger.error("escalation %s not posted to the support channel: %s", escalation.reference, problem)
            raise RuntimeError(problem)
        text, blocks = staff_post(escalation, _slack_user(escalation.requester_principal))
        response = client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        return str(response.get("ts") or "")

    def reply(self, channel: str, thread_ts: str, text: str, blocks: list[dict[str, Any]]) -> str:
        """Post in the thread of a request's staff post (a requester's message, a state change);
        refused like ``post`` where outsiders could read it. The new message's ts."""
        client = self._fit_client()
        response = client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        return str(response.get("ts") or "")

    def update(self, channel: str, ts: str, escalation: EscalationView) -> None:
        """Redraw a request's staff post in place (its state and buttons)."""
        client = self._fit_client()
        text, blocks = staff_post(escalation, _slack_user(escalation.requester_principal))
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def _fit_client(self) -> WebClient:
        client = self._client_source()
        if client is None:
            raise RuntimeError("no Slack installation for the support channel's workspace (SUPPORT_SLACK_TEAM)")
        problem = self.problem()
        if problem is not None:
            raise RuntimeError(problem)
        return client


def slack_staff_channel(channel: str | None, client_source: Callable[[], WebClient | None]) -> SlackStaffChannel | None:
    """What the outbox posts escalations to the staff channel ``channel`` (``SUPPORT_SLACK_CHANNEL``)
    through, with the client ``client_source`` gives at the time of each post; None without a
    channel. The composition root hands it to the escalation outbox."""
    return SlackStaffChannel(client_source, StaffChannelCheck(channel, client_source)) if channel else None


def staff_channel_problem(services: Services) -> str | None:
    """What keeps escalations out of ``SUPPORT_SLACK_CHANNEL`` (for start-up and ``/healthz``), or
    ``None`` when it is fit or none is configured."""
    poster = services.escalations.outbox.staff_channel
    return poster.problem() if isinstance(poster, SlackStaffChannel) else None


def _slack_user(principal: str) -> str | None:
    parsed = parse_principal(principal)
    return parsed.user_id if parsed and _SLACK_ID.match(parsed.user_id) else None


# -- /billing support [message] ---------------------------------------------------------------


def support_command_screen(ix: Interaction, caller: CallerContext, message: str) -> Screen:
    """``/billing support [message]`` (the command router calls this after the ack).

    Without a message: the caller's open requests with their status, and a button for a new one.
    With one, the request is created straight away (topic "Something else", the active account, no
    invoice) rather than opening a prefilled modal: the text already says what the person wants,
    and a trigger id may have expired by the time a follow-up runs. Domain errors propagate.
    """
    if not message.strip():
        return open_escalations_screen(caller.active, ix.services.escalations.list_open(caller.actor))
    view = ix.services.escalations.create(caller.actor, caller.active.external_id, "other", message)
    ix.services.escalations.deliver_soon(view)
    return queued_screen(view)


# -- "Contact billing support" button -> modal --------------------------------------------------


def _support_modal(body: dict[str, Any], client: WebClient) -> ModalSurface:
    view = body.get("view")
    from_modal = isinstance(view, dict) and view.get("type") == "modal"
    surface = ModalSurface(client, trigger_id=_text(body.get("trigger_id")), push=from_modal)
    surface.open("Billing support")  # first: the trigger id expires within 3 s
    return surface


@for_account(SupportTarget, surface=_support_modal, refused=say_why)
def open_support_modal(request: Request[SupportTarget]) -> None:
    wanted = request.payload
    invoices = _invoices_for(request.ix, request.caller, request.account, wanted.invoice)
    modal_of(request.surface).show_view(
        support_modal(
            request.account,
            invoices,
            invoice=wanted.invoice or None,
            topic=wanted.topic or None,
            message=wanted.message or "",
        )
    )


def _invoices_for(ix: Interaction, caller: CallerContext, account: AccountView, wanted: str) -> list[InvoiceView]:
    invoices = ix.services.accounts.open_invoices(caller.actor, account.external_id)
    if wanted and all(i.number != wanted for i in invoices):
        try:  # a paid invoice can still be disputed; it must be the caller's, or it is left out
            invoices.insert(0, ix.services.accounts.invoice(caller.actor, account.external_id, wanted))
        except BillingError as error:
            ix.record_refusal(error, target=wanted)
    return invoices


# -- modal submission -------------------------------------------------------------------------


def ack_submission(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Refuse a bad message or topic inline (the modal stays open, nothing follows), else close the modal."""
    errors = _form_errors(SupportForm.of(SubmittedView.of(body)))
    if errors:
        nothing_left_to_do(context)
        ack(response_action="errors", errors=errors)
    else:
        ack()


def _form_errors(form: SupportForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    if topic_key(form.topic) is None:
        errors[TOPIC_BLOCK] = user_message(UnknownEscalationTopic("missing"))
    try:
        validate_message(form.message)
    except InvalidEscalation as error:
        errors[MESSAGE_BLOCK] = user_message(error)
    return errors


def _requester_dm(body: dict[str, Any], client: WebClient) -> DmSurface:
    user = body.get("user")
    return DmSurface(client, str(user.get("id") or "") if isinstance(user, dict) else "")


@for_account(SupportSubmission, surface=_requester_dm, refused=say_why)
def submit_support(request: Request[SupportSubmission]) -> None:
    """Store the request (the outbox e-mails it) and tell the requester its reference by DM."""
    form = request.payload.form
    escalations = request.ix.services.escalations
    created = escalations.create(
        request.actor,
        request.account.external_id,
        topic_key(form.topic) or "",
        form.message,
        invoice_number=form.invoice,
    )
    request.show(queued_screen(created))
    escalations.deliver_soon(created)


# -- a file sent to the app: "Send to billing support" / "Cancel" --------------------------------


def _in_place(body: dict[str, Any], client: WebClient) -> Surface:
    """The offer itself, replaced (in the DM or ephemeral): it cannot be sent twice by mistake."""
    url = _text(body.get("response_url"))
    return ResponseUrlSurface(client, url, replace=True) if url else surface_for(body, client)


@for_account(FileOffer, surface=_in_place, refused=say_why)
def send_file_to_support(request: Request[FileOffer]) -> None:
    """A request to billing support naming the files and their Slack links (never their bytes),
    for the account the offer was made for; the reference is shown in place of the offer."""
    escalations = request.ix.services.escalations
    created = escalations.create(
        request.actor,
        request.account.external_id,
        "other",
        file_request_message(request.payload),
        repeat_window=DOUBLE_CLICK_WINDOW,
    )
    request.show(queued_screen(created))
    escalations.deliver_soon(created)


def withdraw_file_offer(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """ "Cancel": the offer is replaced by "Not sent"; nothing else happens, so no check is needed."""
    _in_place(body, client).show(file_offer_withdrawn_screen())


# -- "Mark resolved" in the staff channel ------------------------------------------------------


def resolve_from_channel(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    def work(ix: Interaction) -> None:
        staff_channel = ix.services.escalations.support_channel
        container = body.get("container") if isinstance(body.get("container"), dict) else {}
        assert isinstance(container, dict)
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        malformed: MalformedPayload | None = None
        try:
            reference = EscalationRef.read(body).reference
        except MalformedPayload as error:  # still audited below when clicked outside the staff channel
            reference, malformed = error.raw, error
        refusal = staff_refusal(ix, client, staff_channel, channel)
        if refusal is not None:
            _audit_outsider(ix, reference, channel)
            _ephemeral(client, channel, ix.user_id, refusal)
            return
        if malformed is not None:
            raise malformed
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
        from handlers.escalations.threads import redraw  # the threads module builds on this one

        if resolved.requester_dm_ts:  # a support thread: its first message and a line in it say so
            redraw(ix, resolved, staff_post=False, notice_to_requester=resolved_dm(resolved).text)
            return
        requester = _slack_user(resolved.requester_principal)
        # Through the requester's own workspace: they may be in a customer's, not the vendor's.
        their_client = ix.deps.client_for_principal(resolved.requester_principal)
        if requester is not None and their_client is not None:
            send_dm(their_client, requester, resolved_dm(resolved))
        elif requester is not None:
            logger.warning("no Slack installation for %s's workspace: resolved DM not sent", requester)

    run_safely(body, client, context, work, surface=_NoSurface(client, body))


def staff_refusal(ix: Interaction, client: WebClient, staff_channel: str | None, channel: str) -> str | None:
    """Why this click may not resolve requests, or ``None`` when it may.

    Billing staff are the members of the configured support channel, which must be private, in
    the workspace that holds it: a button value or a channel id alone proves nothing.
    """
    if not staff_channel:
        return NOT_CONFIGURED
    if channel != staff_channel or (ix.deps.support_team is not None and ix.team_id != ix.deps.support_team):
        return STAFF_ONLY
    try:
        info = client.conversations_info(channel=channel).get("channel") or {}
        if channel_problem(info) is not None:  # public, or shared with another organization
            return PUBLIC_CHANNEL
        if not _is_member(client, channel, ix.user_id):
            return STAFF_ONLY
    except SlackApiError as error:
        logger.warning("could not check the support channel: %s", error.response.get("error"))
        return STAFF_ONLY
    return None


def _is_member(client: WebClient, channel: str, user_id: str, *, pages: int = 50) -> bool:
    cursor: str | None = None
    for _ in range(pages):
        answer = client.conversations_members(channel=channel, limit=1000, cursor=cursor)
        if user_id in (answer.get("members") or []):
            return True
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return False
    return False


def _audit_outsider(ix: Interaction, reference: str, channel: str) -> None:
    """A resolve click from outside the staff channel is a forged button: refused and audited."""
    try:
        ix.services.audit.record(
            actor=ix.actor,
            action="forgery.refused",
            outcome="refused",
            target=reference[:255] or None,
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
    """Add the support listeners to ``app`` (the composition root attaches the staff channel)."""
    app.action(SUPPORT_OPEN_ACTION)(acked(open_support_modal))
    app.view(SUPPORT_MODAL_CALLBACK)(acked_then(ack_submission, submit_support))
    app.action(SUPPORT_RESOLVE_ACTION)(acked(resolve_from_channel))
    app.action(SUPPORT_FILE_SEND_ACTION)(acked(send_file_to_support))
    app.action(SUPPORT_FILE_CANCEL_ACTION)(acked(withdraw_file_offer))
    from handlers.escalations import threads  # builds on this module's staff channel and checks

    threads.register(app)
