"""``billing-bot reminders run-once|preview`` with ``--now``, and the scheduler inside the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from billing_core.clock import FixedClock
from billing_core.container import Services
from bot.cli import app
from bot.scheduler import build_scheduler, start_scheduler
from bot.settings import Settings, get_settings
from devtools.loopback.slack_api import SlackAPI
from tests.integration.reminders.conftest import account, deliveries, dm_texts, invoice


@pytest.fixture(autouse=True)
def data(slack_api: SlackAPI, load: Callable[..., None]) -> None:
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="Europe/London")
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee"), ("zoe@acme.test", "Zoe Ng")],
            [invoice("INV-1", date(2026, 12, 1), 125000), invoice("INV-2", date(2026, 12, 1), 5000)],
        )
    )


@pytest.mark.usefixtures("env")
def test_run_once_sends_the_reminders_due_at_now_and_prints_the_counts(slack_api: SlackAPI) -> None:
    result = CliRunner().invoke(app, ["reminders", "run-once", "--now", "2026-11-24T10:00:00+00:00"])

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "sent 1, skipped 1, failed 0"  # DMs: Ann's; Zoe's
    [(channel, text)] = dm_texts(slack_api)
    assert channel == "DUANN" and "INV-1" in text and "INV-2" in text and "due in 7 days" in text


@pytest.mark.usefixtures("env")
def test_run_once_exits_zero_when_sends_fail_and_they_are_retried_later(slack_api: SlackAPI) -> None:
    slack_api.fail_next("chat.postMessage", status=500)

    first = CliRunner().invoke(app, ["reminders", "run-once", "--now", "2026-11-24T10:00:00+00:00"])
    again = CliRunner().invoke(app, ["reminders", "run-once", "--now", "2026-11-24T10:15:00+00:00"])

    assert first.exit_code == 0, first.output
    assert first.output.strip().splitlines()[-1] == "sent 0, skipped 1, failed 1"
    assert again.output.strip().splitlines()[-1] == "sent 1, skipped 0, failed 0"


@pytest.mark.usefixtures("env")
def test_run_once_outside_working_hours_sends_nothing_yet() -> None:
    result = CliRunner().invoke(app, ["reminders", "run-once", "--now", "2026-11-28T10:00:00"])  # Saturday

    assert result.exit_code == 0, result.output
    assert "postponed: 2" in result.output
    assert result.output.strip().splitlines()[-1] == "sent 0, skipped 1, failed 0"


@pytest.mark.usefixtures("env")
def test_preview_prints_what_would_be_sent_and_sends_nothing(app_services: Services, slack_api: SlackAPI) -> None:
    result = CliRunner().invoke(app, ["reminders", "preview", "--now", "2026-12-04T10:00:00Z"])

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("ann@acme.test: 3 days overdue: INV-1 (acme, $1,250.00, due 2026-12-01, 3 days overdue)")
    assert lines[-1].startswith("would send 4 reminder(s) in 2 DM(s)")
    assert slack_api.calls() == [] and deliveries(app_services.db) == []


def test_run_once_without_a_slack_token_names_the_missing_variable(
    reminder_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", reminder_settings.database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["reminders", "run-once"])
    get_settings.cache_clear()

    assert result.exit_code != 0 and "SLACK_BOT_TOKEN" in result.output


@pytest.mark.usefixtures("env")
def test_a_malformed_now_is_refused() -> None:
    result = CliRunner().invoke(app, ["reminders", "run-once", "--now", "next tuesday"])
    assert result.exit_code != 0 and "--now" in result.output


def test_the_scheduler_has_the_sweep_reconcile_clean_up_and_outbox_jobs(
    app_services: Services, reminder_settings: Settings
) -> None:
    # As with a Stripe key: payments (reconciled) and autopay's charges.
    stripe = SimpleNamespace(reconcile=lambda: None, autopay_pass=SimpleNamespace(run=lambda: None))
    scheduler = build_scheduler(replace(app_services, payments=stripe), reminder_settings)  # type: ignore[arg-type]
    jobs = {job.id: job for job in scheduler.get_jobs()}

    assert set(jobs) == {
        "reminder_sweep",
        "reminder_stale_claims",
        "payment_reconcile",
        "autopay",
        "escalation_outbox",
        "scheduler_lease",
    }
    assert jobs["reminder_sweep"].trigger.interval.total_seconds() == 15 * 60
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())


def test_the_running_scheduler_sweeps_reminders_in_the_background(
    app_services: Services, reminder_settings: Settings, slack_api: SlackAPI, clock: FixedClock
) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 24, 10, tzinfo=UTC))
    scheduler = start_scheduler(app_services, reminder_settings, first_run_in=0)
    try:
        slack_api.wait_for("chat.postMessage", timeout=10)
    finally:
        scheduler.shutdown(wait=True)
    assert [channel for channel, _ in dm_texts(slack_api)] == ["DUANN"]
