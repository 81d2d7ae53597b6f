"""The reminder DM's own buttons: "Remind me later" and "I've already paid".

Pay (``PAY_OPEN_ACTION``) and Contact billing support (``SUPPORT_OPEN_ACTION``) carry the same
values as everywhere else, so the pay and support flows handle them. Every listener acks at once;
the work runs lazily. The invoices named in a button are untrusted: the reminder service checks
each against the clicker's verified e-mail, and a refusal changes nothing.
"""

from __future__ import annotations

from slack_bolt import App

from billing_core.messaging import PostedMessage
from handlers.kit.blocks import fmt_date, message_screen
from handlers.kit.guard import ContactRequest, acked, for_contact
from handlers.kit.ids import REMINDER_ALREADY_PAID_ACTION, REMINDER_SNOOZE_ACTION
from handlers.reminders.payloads import InvoiceRef, SnoozeTarget, clicked_message


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


def register(app: App) -> None:
    app.action(REMINDER_SNOOZE_ACTION)(acked(snooze))
    app.action(REMINDER_ALREADY_PAID_ACTION)(acked(already_paid))
