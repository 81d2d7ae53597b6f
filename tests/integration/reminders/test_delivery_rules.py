"""Working hours in the recipient's time zone, "Paid, thank you", pauses and overdue escalation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.reminders.service import ReminderService
from billing_core.views import Actor
from devtools.loopback.slack_api import SlackAPI
from tests.integration.reminders.conftest import account, deliveries, dm_texts, invoice, utc
from tests.support.slack_calls import answered

ANN = Actor(email="ann@acme.test", principal="slack:T111:UANN", display_name="Ann Lee")


@pytest.fixture(autouse=True)
def people(slack_api: SlackAPI) -> None:
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="America/Los_Angeles")
    slack_api.add_user("UBOB", "bob@acme.test", "Bob Ray", tz="Europe/Berlin")


@pytest.fixture
def one_invoice_due_today(load: Callable[..., None]) -> None:
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee"), ("bob@acme.test", "Bob Ray")],
            [invoice("INV-1", date(2026, 11, 25), 125000)],
        )
    )


@pytest.mark.usefixtures("one_invoice_due_today")
def test_each_person_is_reminded_within_their_own_working_hours(
    reminders: ReminderService, slack_api: SlackAPI, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 25, 6))  # 07:00 Berlin, 22:00 (Tue) Los Angeles: nobody yet
    first = reminders.run_sweep()
    assert (first.sent, first.postponed) == (0, 2)

    clock.set(utc(2026, 11, 25, 15))  # 16:00 Berlin, 07:00 Los Angeles: Bob only
    assert reminders.run_sweep().sent == 1
    assert [channel for channel, _ in dm_texts(slack_api)] == ["DUBOB"]

    clock.set(utc(2026, 11, 25, 17))  # 18:00 Berlin, 09:00 Los Angeles: Ann, and Bob not again
    assert reminders.run_sweep().sent == 1
    assert [channel for channel, _ in dm_texts(slack_api)] == ["DUBOB", "DUANN"]


@pytest.mark.usefixtures("one_invoice_due_today")
def test_nobody_is_reminded_at_the_weekend(reminders: ReminderService, slack_api: SlackAPI, clock: FixedClock) -> None:
    clock.set(utc(2026, 11, 28, 12))  # Saturday: step 3 has come, but it waits for Monday
    assert reminders.run_sweep().sent == 0
    clock.set(utc(2026, 11, 30, 12))  # Monday 13:00 Berlin
    assert reminders.run_sweep().sent == 1
    assert "5 days overdue" in dm_texts(slack_api)[0][1]  # the step-3 reminder, sent on day 5, says so


@pytest.mark.usefixtures("one_invoice_due_today")
def test_a_reminder_for_an_invoice_paid_since_is_updated_to_paid_thank_you(
    reminders: ReminderService, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    clock.set(utc(2026, 11, 25, 15))
    reminders.run_sweep()
    posted = slack_api.last("chat.postMessage")
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee"), ("bob@acme.test", "Bob Ray")],
            [invoice("INV-1", date(2026, 11, 25), 125000, status="paid")],
        )
    )

    clock.set(utc(2026, 11, 25, 15, 15))
    result = reminders.run_sweep()

    assert result.thanked == 1 and result.sent == 0
    update = slack_api.last("chat.update")
    assert update.json_args["ts"] == answered(posted)["ts"]
    assert update.json_args["channel"] == "DUBOB"
    assert "Paid, thank you" in update.json_args["text"]
    assert all(block.get("type") != "actions" for block in update.json_args["blocks"])
    assert reminders.run_sweep().thanked == 0  # once only
    clock.set(utc(2026, 11, 25, 18))  # Ann's working hours: a paid invoice gets no reminder
    assert reminders.run_sweep().sent == 0


def test_a_grouped_reminder_marks_the_paid_invoice_and_keeps_buttons_for_the_rest(
    reminders: ReminderService, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    clock.set(utc(2026, 11, 25, 15))
    invoices = [invoice("INV-1", date(2026, 11, 25)), invoice("INV-2", date(2026, 11, 25))]
    load(account("acme", [("bob@acme.test", "Bob Ray")], invoices))
    reminders.run_sweep()
    load(
        account(
            "acme", [("bob@acme.test", "Bob Ray")], [invoice("INV-1", date(2026, 11, 25), status="paid"), invoices[1]]
        )
    )

    assert reminders.run_sweep().thanked == 1
    text = slack_api.last("chat.update").json_args["text"]
    assert "INV-1" in text and "paid, thank you" in text and "INV-2" in text


@pytest.mark.usefixtures("one_invoice_due_today")
def test_remind_me_later_pauses_that_persons_reminders_for_three_days(
    reminders: ReminderService, slack_api: SlackAPI, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 27, 18))  # Friday, 2 days overdue (step 0 missed, never sent late)
    until = reminders.snooze(ANN, [("acme", "INV-1")])
    assert until == utc(2026, 11, 30, 18)

    clock.set(utc(2026, 11, 30, 12))  # Monday, step 3 has come: Bob (13:00 in Berlin) gets it
    assert reminders.run_sweep().sent == 1
    clock.set(utc(2026, 11, 30, 17))  # 09:00 in Los Angeles, but Ann's snooze still holds
    assert reminders.run_sweep().sent == 0
    clock.set(utc(2026, 12, 1, 17))  # snooze over
    assert reminders.run_sweep().sent == 1
    assert [channel for channel, _ in dm_texts(slack_api)] == ["DUBOB", "DUANN"]
    assert "6 days overdue" in dm_texts(slack_api)[1][1]  # the step-3 reminder, sent on day 6, says so


@pytest.mark.usefixtures("one_invoice_due_today")
def test_already_paid_pauses_for_seven_days_and_tells_billing_support(
    reminders: ReminderService, app_services: Services, slack_api: SlackAPI, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 26, 17))
    until, reference = reminders.already_paid(ANN, "acme", "INV-1")

    assert until == utc(2026, 12, 3, 17)
    assert reference is not None and reference.startswith("ESC-")
    [escalation] = app_services.escalations.list_open(ANN)
    assert escalation.topic == "already_paid" and escalation.invoice_number == "INV-1"
    clock.set(utc(2026, 12, 2, 12))  # day 7: Bob (13:00 in Berlin) is reminded
    assert reminders.run_sweep().sent == 1
    clock.set(utc(2026, 12, 2, 17, 30))  # 09:30 in Los Angeles, but Ann's pause holds
    assert reminders.run_sweep().sent == 0
    clock.set(utc(2026, 12, 3, 17, 30))  # pause over
    assert reminders.run_sweep().sent == 1
    assert [channel for channel, _ in dm_texts(slack_api)] == ["DUBOB", "DUANN"]


def test_pausing_someone_elses_invoice_is_refused_and_changes_nothing(
    reminders: ReminderService, load: Callable[..., None]
) -> None:
    from billing_core.errors import InvoiceNotFound

    load(account("globex", [("zed@globex.test", "Zed")], [invoice("G-1", date(2026, 11, 25))]))
    with pytest.raises(InvoiceNotFound):
        reminders.snooze(ANN, [("globex", "G-1")])
    with pytest.raises(InvoiceNotFound):
        reminders.already_paid(ANN, "globex", "G-1")


def test_an_invoice_unpaid_thirty_days_after_the_last_reminder_goes_to_billing_support_once(
    reminders: ReminderService, app_services: Services, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", [("bob@acme.test", "Bob Ray")], [invoice("INV-1", date(2026, 10, 20))]))
    clock.set(utc(2026, 11, 18, 12))  # day 29: the last reminder (14 days overdue) goes, no escalation
    first = reminders.run_sweep()
    assert (first.sent, first.escalated) == (1, 0)

    clock.set(utc(2026, 11, 19, 12))  # day 30
    assert reminders.run_sweep().escalated == 1
    clock.set(utc(2026, 11, 20, 12))
    assert reminders.run_sweep().escalated == 0

    from sqlalchemy import select

    from billing_core.db.tables import EscalationRecord

    with app_services.db.read() as session:
        topics = list(session.scalars(select(EscalationRecord.topic)))
    assert topics == ["overdue"]
    assert [d.status for d in deliveries(app_services.db) if d.step == 1_000_000] == ["sent"]
