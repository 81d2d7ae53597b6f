"""The staff receivables view: billing staff's App Home and its actions.

Why the App Home and not a ``/billing-staff`` command: the view is a dashboard people come back
to, and Slack's App Home is the app's persistent, per-person surface for exactly that (published
per user with ``views.publish``, never seen by anyone else); it takes 100 blocks where an
ephemeral message takes 50; and it needs no new slash command in every installing workspace's
manifest. Staff open the app's Home tab; everybody else keeps seeing their own billing there.

Every request re-checks on the server that the person is billing staff (``handlers.kit.staff``):
the Home's publish, each button, each modal submission. Anyone else gets a polite refusal,
audited as ``forgery.refused`` (error ``NotBillingStaff``), and nothing changes. Results are told
on the Home itself (a notice on top) or in a modal: ephemeral by nature.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.errors import BillingError, InvalidHoldDate, NotBillingStaff
from billing_core.staff.desk import StaffDesk
from billing_core.views import Actor
from handlers.kit.blocks import fmt_date
from handlers.kit.errors import user_message
from handlers.kit.guard import acked
from handlers.kit.interaction import Interaction, deps_of, run_safely
from handlers.kit.staff import require_staff
from handlers.kit.surfaces import DmSurface, ModalSurface, Surface, surface_for
from handlers.runtime.follow_up import acked_then, nothing_left_to_do
from handlers.staff.blocks import PAGE_SIZE, close_modal, pause_modal, requests_screen, staff_home_view
from handlers.staff.ids import (
    STAFF_CLOSE_MODAL,
    STAFF_CLOSE_OPEN_ACTION,
    STAFF_NEXT_ACTION,
    STAFF_PAGE_ACTION,
    STAFF_PAUSE_MODAL,
    STAFF_PAUSE_OPEN_ACTION,
    STAFF_PREVIOUS_ACTION,
    STAFF_REMIND_NOW_ACTION,
    STAFF_REQUESTS_ACTION,
    STAFF_RESUME_ACTION,
)
from handlers.staff.payloads import (
    CLOSE_HOW_BLOCK,
    PAID_ELSEWHERE,
    PAUSE_DATE_BLOCK,
    VOID,
    StaffAccount,
    StaffCloseSubmission,
    StaffPage,
    StaffPauseSubmission,
)

logger = logging.getLogger(__name__)

StaffWork = Callable[[Interaction, Actor, StaffDesk, Surface], None]


def publish_staff_home(
    ix: Interaction, *, page: int | None = None, notice: str = "", view_hash: str | None = None
) -> None:
    """Publish the staff view into the caller's Home (the caller was checked to be staff)."""
    desk = ix.services.staff
    assert desk is not None
    overview = desk.overview(page=_home_page(ix.body) if page is None else page, page_size=PAGE_SIZE)
    view = staff_home_view(overview, notice)
    view["private_metadata"] = StaffPage(page=overview.page).encode()
    if view_hash:
        ix.client.views_publish(user_id=ix.user_id, view=view, hash=view_hash)
    else:
        ix.client.views_publish(user_id=ix.user_id, view=view)


def _home_page(body: dict[str, Any]) -> int:
    view = body.get("view")
    if isinstance(view, dict) and view.get("type") == "home":
        try:
            return StaffPage.decode(view.get("private_metadata") or "").page
        except BillingError:
            return 0
    return 0


def _refused(ix: Interaction, error: NotBillingStaff) -> None:
    """A staff button or modal from someone who is not staff was never shown to them: audited as a
    forgery, naming the account it named."""
    try:
        ix.services.audit.record(
            actor=ix.actor,
            action="forgery.refused",
            outcome="refused",
            target=_named_account(ix.body)[:255] or None,
            detail={"error": "NotBillingStaff", "slack_user": ix.user_id[:64], "action": _action_id(ix.body)[:64]},
        )
    except Exception:
        logger.exception("could not audit a refused staff request")


def _named_account(body: dict[str, Any]) -> str:
    found = body.get("actions")
    raw: object = found[0].get("value") if isinstance(found, list) and found and isinstance(found[0], dict) else None
    view = body.get("view")
    if raw is None and isinstance(view, dict) and view.get("type") == "modal":
        raw = view.get("private_metadata")
    try:
        return StaffAccount.decode(raw).account
    except BillingError:
        return ""


def _action_id(body: dict[str, Any]) -> str:
    found = body.get("actions")
    if isinstance(found, list) and found and isinstance(found[0], dict):
        return str(found[0].get("action_id") or "")
    view = body.get("view")
    return str(view.get("callback_id") or "") if isinstance(view, dict) else ""


def staff_only(work: StaffWork, surface: Callable[[dict[str, Any], WebClient], Surface] = surface_for) -> Any:
    """A follow-up that runs ``work`` only for billing staff, re-checked now; others are refused."""

    def follow_up(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        try:
            where = surface(body, client)
        except SlackApiError as error:
            logger.warning("could not open the modal: %s", error.response.get("error"))
            return

        def serve(ix: Interaction) -> None:
            try:
                staff = require_staff(ix)
            except NotBillingStaff as error:
                _refused(ix, error)
                raise
            desk = ix.services.staff
            assert desk is not None  # require_staff refuses without one
            work(ix, staff, desk, where)

        run_safely(body, client, context, serve, surface=where)

    follow_up.__name__ = getattr(work, "__name__", "staff_follow_up")
    return follow_up


def _opened_modal(title: str) -> Callable[[dict[str, Any], WebClient], Surface]:
    def open_now(body: dict[str, Any], client: WebClient) -> Surface:
        trigger = body.get("trigger_id")
        surface = ModalSurface(client, trigger_id=trigger if isinstance(trigger, str) and trigger else None)
        surface.open(title)  # first: the trigger id expires within 3 s
        return surface

    return open_now


def _submitter_dm(body: dict[str, Any], client: WebClient) -> Surface:
    user = body.get("user")
    return DmSurface(client, str(user.get("id") or "") if isinstance(user, dict) else "")


# -- the buttons -----------------------------------------------------------------------------------


def turn_page(ix: Interaction, staff: Actor, desk: StaffDesk, where: Surface) -> None:
    publish_staff_home(ix, page=StaffPage.read(ix.body).page)


def resume(ix: Interaction, staff: Actor, desk: StaffDesk, where: Surface) -> None:
    account = StaffAccount.read(ix.body).account
    lifted = desk.resume(staff, account)
    notice = f"Reminders for {account} resumed." if lifted else f"Reminders for {account} were not paused by staff."
    publish_staff_home(ix, notice=notice)


def remind_now(ix: Interaction, staff: Actor, desk: StaffDesk, where: Surface) -> None:
    account = StaffAccount.read(ix.body).account
    sent = desk.send_reminder_now(staff, account)
    if sent.nothing_open:
        notice = f"{account} has no open invoice: no reminder sent."
    elif sent.already_today:
        notice = f"A reminder for {account} was already sent today: none sent again."
    else:
        notice = f"Reminder for {account} sent to {sent.sent} contact(s)" + (
            f"; {sent.not_found} not in Slack, {sent.failed} failed." if sent.not_found or sent.failed else "."
        )
    publish_staff_home(ix, notice=notice)


def open_pause(ix: Interaction, staff: Actor, desk: StaffDesk, where: Surface) -> None:
    account = StaffAccount.read(ix.body).account
    name, _ = desk.open_invoices(account)
    assert isinstance(where, ModalSurface)
    where.show_view(pause_modal(account, name, desk.today()))


def open_close(ix: Interaction, staff: Actor, desk: StaffDesk, where: Surface) -> None:
    account = StaffAccount.read(ix.body).account
    name, invoices = desk.open_invoices(account)
    assert isinstance(where, ModalSurface)
    where.show_view(close_modal(account, name, invoices))


def show_requests(ix: Interaction, staff: Actor, desk: StaffDesk, where: Surface) -> None:
    account = StaffAccount.read(ix.body).account
    name, requests = desk.open_requests(account)
    where.show(requests_screen(name, requests))


# -- the modals ------------------------------------------------------------------------------------


def _today(context: BoltContext) -> date | None:
    desk = deps_of(context).services.staff
    return desk.today() if desk is not None else None


def ack_pause(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """A day that is not after today or more than a year ahead is refused inline (nothing follows)."""
    today = _today(context)
    try:
        day = StaffPauseSubmission.read(body).day()
        if today is not None and not today < day <= today + timedelta(days=366):
            raise InvalidHoldDate(day.isoformat())
    except BillingError as error:
        nothing_left_to_do(context)
        ack(response_action="errors", errors={PAUSE_DATE_BLOCK: user_message(error)})
        return
    ack()


def submit_pause(ix: Interaction, staff: Actor, desk: StaffDesk, where: Surface) -> None:
    submission = StaffPauseSubmission.read(ix.body)
    hold = desk.pause(staff, submission.account, submission.day())
    last_day = fmt_date(hold.until - timedelta(seconds=1))
    publish_staff_home(ix, page=0, notice=f"Reminders for {submission.account} paused until {last_day}.")


def ack_close(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    try:
        submission = StaffCloseSubmission.read(body)
    except BillingError:
        ack()  # the follow-up refuses it (and audits it when it comes from a non-member)
        return
    if submission.how not in (PAID_ELSEWHERE, VOID):
        nothing_left_to_do(context)
        ack(response_action="errors", errors={CLOSE_HOW_BLOCK: "Choose paid elsewhere or void."})
        return
    ack()


def submit_close(ix: Interaction, staff: Actor, desk: StaffDesk, where: Surface) -> None:
    submission = StaffCloseSubmission.read(ix.body)
    if submission.how == PAID_ELSEWHERE:
        changed = desk.mark_paid_elsewhere(
            staff, submission.account, submission.invoice, method=submission.method, reference=submission.reference
        )
        done = "marked paid elsewhere"
    else:
        changed = desk.void(staff, submission.account, submission.invoice)
        done = "voided"
    notice = (
        f"{submission.invoice} of {submission.account} {done}."
        if changed
        else f"{submission.invoice} was already {done}."
    )
    publish_staff_home(ix, page=0, notice=notice)


def register(app: App) -> None:
    for action in (STAFF_PAGE_ACTION, STAFF_PREVIOUS_ACTION, STAFF_NEXT_ACTION):
        app.action(action)(acked(staff_only(turn_page)))
    app.action(STAFF_RESUME_ACTION)(acked(staff_only(resume)))
    app.action(STAFF_REMIND_NOW_ACTION)(acked(staff_only(remind_now)))
    app.action(STAFF_PAUSE_OPEN_ACTION)(acked(staff_only(open_pause, _opened_modal("Pause reminders"))))
    app.action(STAFF_CLOSE_OPEN_ACTION)(acked(staff_only(open_close, _opened_modal("Close an invoice"))))
    app.action(STAFF_REQUESTS_ACTION)(acked(staff_only(show_requests, _opened_modal("Requests"))))
    app.view(STAFF_PAUSE_MODAL)(acked_then(ack_pause, staff_only(submit_pause, _submitter_dm)))
    app.view(STAFF_CLOSE_MODAL)(acked_then(ack_close, staff_only(submit_close, _submitter_dm)))
