"""A reminder states the real days until or after each due date, counted from the sweep's day."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine, ReminderMessage
from billing_core.reminders.schedule import days_label
from handlers.reminders.blocks import reminder_blocks

TODAY = date(2026, 12, 8)


def _line(number: str, days_after_due: int, paid: bool = False) -> ReminderLine:
    return ReminderLine(
        "acme", "Acme Corp", number, Money(125000, "usd"), TODAY - timedelta(days=days_after_due), paid=paid
    )


@pytest.mark.parametrize(
    ("days_after_due", "said"),
    [
        (-7, "due in 7 days"),
        (-2, "due in 2 days"),
        (-1, "due tomorrow"),
        (0, "due today"),
        (1, "1 day overdue"),
        (8, "8 days overdue"),
        (18, "18 days overdue"),
    ],
)
def test_days_read_naturally_in_singular_and_plural(days_after_due: int, said: str) -> None:
    assert days_label(TODAY - timedelta(days=days_after_due), TODAY) == said


def test_an_invoice_18_days_overdue_at_the_14_day_step_says_18_days() -> None:
    message = ReminderMessage(14, "Ann", (_line("INV-1", 18),), today=TODAY)
    assert message.headline == "Reminder: invoice 18 days overdue"
    assert "18 days overdue" in message.fallback_text() and "14 days" not in message.fallback_text()
    assert "14 days" not in json.dumps(reminder_blocks(message))


def test_an_invoice_8_days_overdue_at_the_7_day_step_says_8_days() -> None:
    message = ReminderMessage(7, "Ann", (_line("INV-1", 8),), today=TODAY)
    assert message.headline == "Reminder: invoice 8 days overdue"


def test_two_invoices_due_on_different_days_each_say_their_own_days() -> None:
    message = ReminderMessage(-7, "Ann", (_line("INV-1", -7), _line("INV-2", -2)), today=TODAY)
    assert "due in 7 days" not in message.headline and message.headline.startswith("Reminder: 2 invoices due")
    text = message.fallback_text()
    assert "INV-1 $1,250.00 due 2026-12-15 (due in 7 days)" in text
    assert "INV-2 $1,250.00 due 2026-12-10 (due in 2 days)" in text
    blocks = json.dumps(reminder_blocks(message), ensure_ascii=False)
    assert "due in 7 days" in blocks and "due in 2 days" in blocks


def test_two_invoices_due_the_same_day_share_the_headline() -> None:
    message = ReminderMessage(0, "Ann", (_line("INV-1", 0), _line("INV-2", 0)), today=TODAY)
    assert message.headline == "Reminder: 2 invoices due today"


def test_overdue_and_upcoming_invoices_together_say_due_or_overdue() -> None:
    message = ReminderMessage(3, "Ann", (_line("INV-1", 3), _line("INV-2", -1)), today=TODAY)
    assert message.headline == "Reminder: 2 invoices due or overdue"
    overdue = ReminderMessage(7, "Ann", (_line("INV-1", 7), _line("INV-2", 9)), today=TODAY)
    assert overdue.headline == "Reminder: 2 invoices overdue"


def test_a_rewrite_after_one_invoice_is_paid_counts_only_what_is_still_due() -> None:
    message = ReminderMessage(0, "Ann", (_line("INV-1", 0), _line("INV-2", 0, paid=True)), today=TODAY)
    assert message.headline == "Reminder: invoice due today"
