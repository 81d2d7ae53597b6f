"""Which reminder goes out when: each schedule step, missed steps, grouping, paid and void invoices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.reminders.service import ReminderService
from bot.settings import Settings
from devtools.loopback.slack_api import SlackAPI
from tests.integration.reminders.conftest import account, deliveries, dm_texts, invoice, utc

# Wednesday 25 Nov 2026, 15:00 UTC: inside working hours for a contact in UTC or Europe.
NOW = utc(2026, 11, 25, 15)


@pytest.fixture(autouse=True)
def people(slack_api: SlackAPI, clock: FixedClock) -> None:
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="Europe/London")
    slack_api.add_user("UBOB", "bob@acme.test", "Bob Ray", tz="Europe/Berlin")
    clock.set(NOW)


@pytest.mark.parametrize(
    ("step", "wording"),
    [(-7, "due in 7 days"), (0, "due today"), (3, "3 days overdue"), (7, "7 days overdue"), (14, "14 days overdue")],
)
def test_each_schedule_step_sends_its_reminder_on_its_day(
    step: int, wording: str, load: Callable[..., None], reminders: ReminderService, slack_api: SlackAPI
) -> None:
    due = NOW.date() - timedelta(days=step)
    load(account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", due, 125000)]))

    result = reminders.run_sweep()

    assert result.summary() == "sent 1, skipped 0, failed 0"
    [(channel, text)] = dm_texts(slack_api)
    assert channel == "DUANN"
    assert wording in text and "INV-1" in text and "$1,250.00" in text
    assert [d.step for d in deliveries(reminders._db)] == [step]


def test_nothing_is_sent_before_the_first_step(
    load: Callable[..., None], reminders: ReminderService, slack_api: SlackAPI
) -> None:
    load(account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", NOW.date() + timedelta(days=8))]))

    assert reminders.run_sweep().summary() == "sent 0, skipped 0, failed 0"
    assert dm_texts(slack_api) == []


def test_missed_steps_are_skipped_and_each_step_goes_once(
    load: Callable[..., None], reminders: ReminderService, slack_api: SlackAPI, clock: FixedClock
) -> None:
    # First seen 5 days after the due date: only the 3-days-overdue reminder, never -7 or 0 late.
    load(account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", date(2026, 11, 20))]))

    assert reminders.run_sweep().sent == 1
    assert reminders.run_sweep().sent == 0  # the next sweep the same day
    clock.set(utc(2026, 11, 27, 10))  # Friday, day 7
    assert reminders.run_sweep().sent == 1

    texts = [text for _, text in dm_texts(slack_api)]
    assert len(texts) == 2
    assert "5 days overdue" in texts[0] and "7 days overdue" in texts[1]  # the real days, not the step
    assert sorted(d.step for d in deliveries(reminders._db)) == [3, 7]


def test_a_step_falls_on_a_calendar_day_in_the_billing_time_zone(
    load: Callable[..., None],
    app_services: Services,
    slack_api: SlackAPI,
    clock: FixedClock,
    reminder_settings: Settings,
) -> None:
    from bot.compose import build_services

    tokyo = reminder_settings.model_copy(update={"billing_timezone": "Asia/Tokyo"})
    services = build_services(tokyo, clock=clock, db=app_services.db)
    # 25 Nov 15:00 UTC is already 26 Nov in Tokyo: an invoice due 26 Nov is due *today* there.
    load(account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", date(2026, 11, 26))]))

    assert services.reminders.run_sweep().sent == 1
    assert "due today" in dm_texts(slack_api)[0][1]


def test_invoices_due_to_one_person_at_one_step_share_one_dm(
    load: Callable[..., None], reminders: ReminderService, slack_api: SlackAPI
) -> None:
    due = NOW.date()
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee"), ("bob@acme.test", "Bob Ray")],
            [invoice("A-1", due), invoice("A-2", due, 5000), invoice("A-3", due + timedelta(days=7))],
        ),
        account("globex", [("ann@acme.test", "Ann Lee")], [invoice("G-1", due, 900, currency="eur")], currency="eur"),
    )

    result = reminders.run_sweep()

    # Ann, G-1 due today (one DM) and A-3 a week ahead (another DM). Bob.
    assert result.sent == 7 and result.messages == 4
    by_channel: dict[str, list[str]] = {}
    for channel, text in dm_texts(slack_api):
        by_channel.setdefault(channel, []).append(text)
    ann_today = next(t for t in by_channel["DUANN"] if "due today" in t)
    assert "A-1" in ann_today and "A-2" in ann_today and "G-1" in ann_today and "€9.00" in ann_today
    assert len(by_channel["DUANN"]) == 2 and len(by_channel["DUBOB"]) == 2


def test_paid_and_void_invoices_get_no_reminder(
    load: Callable[..., None], reminders: ReminderService, slack_api: SlackAPI
) -> None:
    due = NOW.date()
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee")],
            [invoice("PAID-1", due, status="paid"), invoice("VOID-1", due, status="void")],
        )
    )

    assert reminders.run_sweep().summary() == "sent 0, skipped 0, failed 0"
    assert dm_texts(slack_api) == []


def test_contacts_not_in_the_workspace_are_skipped_and_counted_once(
    load: Callable[..., None], reminders: ReminderService, slack_api: SlackAPI
) -> None:
    load(account("acme", [("ann@acme.test", "Ann Lee"), ("zoe@acme.test", "Zoe Ng")], [invoice("INV-1", NOW.date())]))

    assert reminders.run_sweep().summary() == "sent 1, skipped 1, failed 0"
    assert reminders.run_sweep().summary() == "sent 0, skipped 0, failed 0"
    assert [channel for channel, _ in dm_texts(slack_api)] == ["DUANN"]


def test_planning_in_small_pages_plans_the_same_dms_as_one_big_page(
    load: Callable[..., None], reminders: ReminderService
) -> None:
    from billing_core.reminders.plan import group_reminders, iter_due

    due = NOW.date()
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee"), ("bob@acme.test", "Bob Ray")],
            [invoice(f"A-{n}", due) for n in range(5)],
        ),
        account(
            "globex",
            [("ann@acme.test", "Ann Lee"), ("cy@globex.test", "Cy")],
            [invoice("G-1", due), invoice("G-2", due + timedelta(days=7))],
        ),
    )

    def dms(page_size: int) -> list[tuple[str, int, tuple[str, ...]]]:
        window = reminders.window(NOW)
        return [
            (g.email, g.step, tuple(r.line.invoice_number for r in g.reminders))
            for g in group_reminders(iter_due(reminders._db, reminders.schedule, window, page_size=page_size))
        ]

    assert dms(2) == dms(3) == dms(10_000)
    assert dms(10_000)[0] == ("ann@acme.test", -7, ("G-2",))
    assert len(dms(10_000)) == 5
