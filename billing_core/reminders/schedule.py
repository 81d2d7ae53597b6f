"""The reminder calendar as pure functions: which step is due on a day (when a DM may go out is
``billing_core.business_hours``).

A step is a number of days relative to the due date (-7 is a week before, 3 is three days late).
It falls on a calendar day counted in the billing time zone. On any day only the latest step whose
day has come is due: earlier steps that were missed are skipped, never sent late.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_STEPS: tuple[int, ...] = (-7, 0, 3, 7, 14)
OVERDUE_ESCALATION_DAYS = 30


@dataclass(frozen=True, slots=True)
class ReminderSchedule:
    """The configured steps (sorted, unique) in the billing time zone."""

    steps: tuple[int, ...]
    timezone: ZoneInfo

    @classmethod
    def of(cls, steps: Iterable[int], timezone: ZoneInfo) -> ReminderSchedule:
        ordered = tuple(sorted(set(steps)))
        if not ordered:
            raise ValueError("a reminder schedule needs at least one step")
        return cls(ordered, timezone)

    @property
    def last_step(self) -> int:
        return self.steps[-1]

    def today(self, now: datetime) -> date:
        """The calendar day ``now`` falls on in the billing time zone."""
        return now.astimezone(self.timezone).date()

    def step_due(self, due_on: date, today: date) -> int | None:
        """The latest step whose day has come, or None before the first step's day."""
        due = [step for step in self.steps if due_on + timedelta(days=step) <= today]
        return due[-1] if due else None

    def thresholds(self, today: date) -> list[tuple[int, date]]:
        """(step, latest due date for which that step's day has come), latest step first.

        An invoice due on or before the date of a pair has reached that step; set-based
        planning turns this list into one SQL ``CASE`` instead of per-invoice arithmetic.
        """
        return [(step, today - timedelta(days=step)) for step in reversed(self.steps)]

    def escalation_cutoff(self, today: date) -> date:
        """Invoices due on or before this day are unpaid ``OVERDUE_ESCALATION_DAYS`` after due."""
        return today - timedelta(days=OVERDUE_ESCALATION_DAYS)


def step_label(step: int) -> str:
    """How a step reads to a person: "due in 7 days", "due today", "3 days overdue"."""
    if step < 0:
        days = -step
        return f"due in {days} day{'s' if days != 1 else ''}"
    if step == 0:
        return "due today"
    return f"{step} day{'s' if step != 1 else ''} overdue"


def days_label(due_on: date, today: date) -> str:
    """The real distance to a due date: "due in 2 days", "due tomorrow", "due today", "1 day overdue"."""
    days = (due_on - today).days
    if days > 1:
        return f"due in {days} days"
    if days == 1:
        return "due tomorrow"
    if days == 0:
        return "due today"
    return f"{-days} day{'s' if days != -1 else ''} overdue"
