"""Reminder DMs state the real days, counted in BILLING_TIMEZONE from the sweep's now; ``run-once``
counts DMs in its last line (real database, the Slack Web API stand-in, the CLI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.reminders.service import ReminderService
from bot.cli import app
from bot.settings import Settings
from devtools.loopback.slack_api import SlackAPI
from tests.integration.reminders.conftest import account, dm_texts, invoice, utc

NOW = utc(2026, 12, 8, 10)  # Tuesday 8 Dec 2026, 10:00 UTC


@pytest.fixture(autouse=True)
def ann(slack_api: SlackAPI, clock: FixedClock) -> None:
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="Europe/London")
    clock.set(NOW)


def _blocks(slack_api: SlackAPI) -> list[str]:
    return [json.dumps(c.json_args.get("blocks"), ensure_ascii=False) for c in slack_api.calls("chat.postMessage")]


def test_a_sweep_tells_each_invoice_its_real_days_not_the_schedule_step(
    load: Callable[..., None], reminders: ReminderService, slack_api: SlackAPI
) -> None:
    today = NOW.date()
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee")],
            [
                invoice("OLD-18", today - timedelta(days=18)),  # the 14-day step
                invoice("OLD-8", today - timedelta(days=8)),  # the 7-day step
                invoice("SOON-7", today + timedelta(days=7)),  # both at the 7-days-before step
                invoice("SOON-2", today + timedelta(days=2)),
            ],
        )
    )

    result = reminders.run_sweep()

    assert result.messages == 3
    texts = [text for _, text in dm_texts(slack_api)]
    old_18 = next(t for t in texts if "OLD-18" in t)
    old_8 = next(t for t in texts if "OLD-8" in t)
    soon = next(t for t in texts if "SOON-7" in t)
    assert old_18.startswith("Reminder: invoice 18 days overdue") and "14 days" not in old_18
    assert old_8.startswith("Reminder: invoice 8 days overdue") and "7 days" not in old_8
    assert "SOON-2" in soon and "2 invoices due in 7 days" not in soon
    assert "(due in 7 days)" in soon and "(due in 2 days)" in soon
    soon_blocks = next(b for b in _blocks(slack_api) if "SOON-7" in b)
    assert "due in 7 days" in soon_blocks and "due in 2 days" in soon_blocks


def test_days_are_counted_on_the_billing_time_zone_calendar(
    load: Callable[..., None], app_services_in: Callable[[str], ReminderService], slack_api: SlackAPI
) -> None:
    # 23:30 UTC on Monday 7 Dec is already Tuesday 8 Dec in Auckland: an invoice due 7 Dec is a day late
    # (at the due-date step, which in UTC would still be its day).
    reminders = app_services_in("Pacific/Auckland")
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="Pacific/Kiritimati")  # 13:30 Tue: open
    load(account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", NOW.date() - timedelta(days=1))]))

    reminders.run_sweep(utc(2026, 12, 7, 23, 30))

    [(_, text)] = dm_texts(slack_api)
    assert text.startswith("Reminder: invoice 1 day overdue")


@pytest.fixture
def app_services_in(reminder_settings: Settings, db: Database, clock: FixedClock) -> Callable[[str], ReminderService]:
    from bot.compose import build_services

    def build(zone: str) -> ReminderService:
        settings = reminder_settings.model_copy(update={"billing_timezone": zone})
        return build_services(settings, clock=clock, db=db).reminders

    return build


@pytest.mark.usefixtures("env")
def test_run_once_counts_dms_in_its_last_line_and_reminders_before_it(
    load: Callable[..., None], slack_api: SlackAPI
) -> None:
    today = NOW.date()
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee"), ("zoe@acme.test", "Zoe Ng")],
            [
                invoice("INV-1", today + timedelta(days=7)),
                invoice("INV-2", today + timedelta(days=7)),
                invoice("INV-3", today - timedelta(days=3)),
                invoice("INV-4", today - timedelta(days=3)),
            ],
        )
    )

    result = CliRunner().invoke(app, ["reminders", "run-once", "--now", NOW.isoformat()])

    assert result.exit_code == 0, result.output
    assert len(dm_texts(slack_api)) == 2  # Ann: one DM per step; Zoe is not in the workspace
    lines = result.output.strip().splitlines()
    assert lines[-1] == "sent 2, skipped 2, failed 0"
    assert "reminders (one per invoice, contact and step): sent 4, skipped 4, failed 0, postponed 0" in lines


@pytest.mark.usefixtures("env")
def test_run_once_counts_a_failed_dm_once_however_many_invoices_it_held(
    load: Callable[..., None], slack_api: SlackAPI
) -> None:
    today = NOW.date()
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee")],
            [invoice("INV-1", today), invoice("INV-2", today), invoice("INV-3", today)],
        )
    )
    slack_api.fail_next("chat.postMessage", status=500)

    result = CliRunner().invoke(app, ["reminders", "run-once", "--now", NOW.isoformat()])

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "sent 0, skipped 0, failed 1"
