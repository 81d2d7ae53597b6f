"""The reminder calendar and working hours, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from billing_core.business_hours import within_business_hours, zone_or_utc
from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine, ReminderMessage
from billing_core.reminders.schedule import ReminderSchedule, step_label

SCHEDULE = ReminderSchedule.of([14, 0, -7, 3, 7, 3], ZoneInfo("UTC"))
DUE = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("today", "step"),
    [
        (date(2026, 11, 23), None),
        (date(2026, 11, 24), -7),
        (date(2026, 11, 30), -7),
        (DUE, 0),
        (date(2026, 12, 4), 3),
        (date(2026, 12, 7), 3),
        (date(2026, 12, 8), 7),
        (date(2026, 12, 15), 14),
        (date(2027, 3, 1), 14),
    ],
)
def test_the_latest_step_whose_day_has_come_is_due(today: date, step: int | None) -> None:
    assert SCHEDULE.step_due(DUE, today) == step


def test_steps_are_sorted_and_unique() -> None:
    assert SCHEDULE.steps == (-7, 0, 3, 7, 14) and SCHEDULE.last_step == 14


def test_an_empty_schedule_is_refused() -> None:
    with pytest.raises(ValueError):
        ReminderSchedule.of([], ZoneInfo("UTC"))


def test_today_is_counted_in_the_billing_time_zone() -> None:
    tokyo = ReminderSchedule.of([0], ZoneInfo("Asia/Tokyo"))
    assert tokyo.today(datetime(2026, 11, 30, 16, tzinfo=UTC)) == DUE


@pytest.mark.parametrize(
    ("moment", "zone", "open_"),
    [
        (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), "UTC", True),
        (datetime(2026, 11, 25, 8, 59, tzinfo=UTC), "UTC", False),
        (datetime(2026, 11, 25, 17, 0, tzinfo=UTC), "UTC", False),
        (datetime(2026, 11, 25, 17, 0, tzinfo=UTC), "America/Los_Angeles", True),  # 09:00 there
        (datetime(2026, 11, 25, 23, 0, tzinfo=UTC), "Asia/Tokyo", False),  # Thursday 08:00 there
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), "Europe/Berlin", False),  # Saturday
        (datetime(2026, 11, 30, 0, 30, tzinfo=UTC), "Asia/Tokyo", True),  # Sunday in UTC, Monday 09:30 there
    ],
)
def test_working_hours_are_weekdays_nine_to_five_on_the_recipients_clock(
    moment: datetime, zone: str, open_: bool
) -> None:
    assert within_business_hours(moment, ZoneInfo(zone)) is open_


def test_an_unknown_or_missing_zone_counts_as_utc() -> None:
    assert zone_or_utc(None) == ZoneInfo("UTC") == zone_or_utc("Mars/Olympus")


def test_steps_read_naturally() -> None:
    assert [step_label(s) for s in (-7, -1, 0, 1, 14)] == [
        "due in 7 days",
        "due in 1 day",
        "due today",
        "1 day overdue",
        "14 days overdue",
    ]


def test_a_message_with_every_invoice_paid_says_thank_you() -> None:
    line = ReminderLine("acme", "Acme", "INV-1", Money(125000, "usd"), DUE)
    message = ReminderMessage(0, "Ann", (line,))
    assert message.headline == "Reminder: invoice due today"
    assert "INV-1 $1,250.00 due 2026-12-01" in message.fallback_text()
    paid = ReminderMessage(0, "Ann", (ReminderLine("acme", "Acme", "INV-1", Money(125000, "usd"), DUE, True),))
    assert paid.headline == "Paid, thank you"
