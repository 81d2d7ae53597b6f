"""The reminder DM's own buttons: "Remind me later" and "I've already paid".

Pay (``PAY_OPEN_ACTION``) and Contact billing support (``SUPPORT_OPEN_ACTION``) carry the same
values as everywhere else, so the pay and support flows handle them. Every listener acks at once;
the work runs lazily. The invoices named in a button are untrusted: the reminder service checks
each against the clicker's verified e-mail, and a refusal changes nothing.

The first reminder DM's "Not me" and "Stop reminders", and the App Home's reminder switch.

In the DM, the person is whoever the reminder reached: the DM itself (channel and timestamp from
Slack's signed request) names the contacts it went to, so no proof of the address is asked (someone
who is not the contact could never give it). The buttons carry no value to trust. On the Home, a
verified contact turns reminders for one of their own accounts back on or off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from billing_core.errors import BillingError, ReminderNotFound
from billing_core.identity.principal import principal_for
from billing_core.messaging import PostedMessage
from handlers.kit.blocks import fmt_date, message_screen
from handlers.kit.errors import user_message
from handlers.kit.guard import ContactRequest, Request, acked, for_account, for_contact, new_message, say_why
from handlers.kit.interaction import Interaction, deps_of, run_safely
from handlers.kit.payloads import AccountRef, SubmittedView
from handlers.kit.surfaces import DmSurface, ModalSurface, Surface, modal_of
from handlers.reminders.blocks import not_me_text, promise_confirmed_screen, promise_modal, stopped_text
from handlers.reminders.ids import (
    REMINDER_ALREADY_PAID_ACTION,
    REMINDER_NOT_ME_ACTION,
    REMINDER_PROMISE_MODAL,
    REMINDER_PROMISE_OPEN_ACTION,
    REMINDER_SNOOZE_ACTION,
    REMINDER_STOP_ACTION,
    REMINDERS_OFF_ACTION,
    REMINDERS_ON_ACTION,
)
from handlers.reminders.payloads import (
    PROMISE_DATE_BLOCK,
    InvoiceRef,
    PromiseSubmission,
    SnoozeTarget,
    clicked_message,
    picked_day,
)
from handlers.runtime.follow_up import acked_then, nothing_left_to_do


@for_contact(SnoozeTarget)
def snooze(request: ContactRequest[SnoozeTarget]) -> None:
    target, reminders = request.payload, request.ix.services.reminders
    if target.invoices is not None:  # a DM sent before the button named one invoice
        until = reminders.snooze(request.actor, target.invoices)
    else:
        assert target.account is not None and target.invoice is not None
        clicked = clicked_message(request.ix.body)
        posted = PostedMessage(*clicked) if clicked else None
        until = reminders.snooze_dm(request.actor, posted, target.account, target.invoice)
    request.show(message_screen(f"OK, I'll remind you again after {fmt_date(until)}.", title="Reminders"))


@for_contact(InvoiceRef)
def already_paid(request: ContactRequest[InvoiceRef]) -> None:
    invoice = request.payload
    until, reference = request.ix.services.reminders.already_paid(request.actor, invoice.account, invoice.invoice)
    told = f"I've told billing support (reference {reference})" if reference else "Thanks for letting us know"
    request.show(
        message_screen(
            f"{told}. I won't remind you about {invoice.invoice} again before {fmt_date(until)}.",
            title="Reminders",
        )
    )


def _register_buttons(app: App) -> None:
    app.action(REMINDER_SNOOZE_ACTION)(acked(snooze))
    app.action(REMINDER_ALREADY_PAID_ACTION)(acked(already_paid))


TITLE = "Reminders"


DmChoice = Callable[[Interaction, str, str], str]


def _in_dm(choose: DmChoice) -> Callable[[dict[str, Any], WebClient, BoltContext], None]:
    """A follow-up running ``choose`` for the reminder DM clicked, answering with a new ephemeral."""

    def follow_up(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        where: Surface = new_message(body, client)

        def work(ix: Interaction) -> None:
            clicked = clicked_message(ix.body)
            if clicked is None or not clicked[0].startswith("D"):  # only ever in a DM the bot sent
                raise ReminderNotFound("")
            where.show(message_screen(choose(ix, *clicked), title=TITLE))

        run_safely(body, client, context, work, surface=where)

    follow_up.__name__ = choose.__name__
    return follow_up


def stop_from_dm(ix: Interaction, channel: str, ts: str) -> str:
    principal = principal_for(ix.team_id, ix.user_id, ix.enterprise_id)
    choice = ix.services.reminders.preferences.stop_from_dm(principal, channel, ts)
    return stopped_text(choice.account_names)


def not_me_from_dm(ix: Interaction, channel: str, ts: str) -> str:
    principal = principal_for(ix.team_id, ix.user_id, ix.enterprise_id)
    described = f"Slack user {ix.user_id} in workspace {ix.team_id}"
    choice = ix.services.reminders.preferences.not_me_from_dm(principal, described, channel, ts)
    return not_me_text(choice.reference)


@for_account(AccountRef)
def reminders_on(request: Request[AccountRef]) -> None:
    request.ix.services.reminders.preferences.set_reminders(request.actor, request.account.external_id, on=True)
    request.ix.publish_home()


@for_account(AccountRef)
def reminders_off(request: Request[AccountRef]) -> None:
    request.ix.services.reminders.preferences.set_reminders(request.actor, request.account.external_id, on=False)
    request.ix.publish_home()


def _register_consent(app: App) -> None:
    app.action(REMINDER_STOP_ACTION)(acked(_in_dm(stop_from_dm)))
    app.action(REMINDER_NOT_ME_ACTION)(acked(_in_dm(not_me_from_dm)))
    app.action(REMINDERS_ON_ACTION)(acked(reminders_on))
    app.action(REMINDERS_OFF_ACTION)(acked(reminders_off))


# -- promise to pay: "I'll pay on…" -> a modal with a date picker -> reminders paused -----------


def _promise_modal_surface(body: dict[str, Any], client: WebClient) -> ModalSurface:
    trigger = body.get("trigger_id")
    surface = ModalSurface(client, trigger_id=trigger if isinstance(trigger, str) and trigger else None)
    surface.open("Promise to pay")  # first: the trigger id expires within 3 s
    return surface


@for_account(AccountRef, surface=_promise_modal_surface, refused=say_why)
def open_promise_modal(request: Request[AccountRef]) -> None:
    today = request.ix.services.reminders.promises.today()
    modal_of(request.surface).show_view(promise_modal(request.account, today))


def ack_promise(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """A day that is not after today or too far ahead is refused inline (the modal stays open,
    nothing follows); the follow-up checks it again with the account guard."""
    try:
        deps_of(context).services.reminders.promises.check_date(picked_day(SubmittedView.of(body)))
    except BillingError as error:
        nothing_left_to_do(context)
        ack(response_action="errors", errors={PROMISE_DATE_BLOCK: user_message(error)})
        return
    ack()


def _payer_dm(body: dict[str, Any], client: WebClient) -> DmSurface:
    user = body.get("user")
    return DmSurface(client, str(user.get("id") or "") if isinstance(user, dict) else "")


@for_account(PromiseSubmission, surface=_payer_dm, refused=say_why)
def submit_promise(request: Request[PromiseSubmission]) -> None:
    promises = request.ix.services.reminders.promises
    promise = promises.promise(request.actor, request.account.external_id, request.payload.day())
    request.show(promise_confirmed_screen(promise))


def _register_promise(app: App) -> None:
    app.action(REMINDER_PROMISE_OPEN_ACTION)(acked(open_promise_modal))
    app.view(REMINDER_PROMISE_MODAL)(acked_then(ack_promise, submit_promise))


def register(app: App) -> None:
    _register_buttons(app)
    _register_consent(app)
    _register_promise(app)
