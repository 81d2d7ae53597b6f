"""``billing-bot autopay run-once [--now]`` and the scheduler's autopay job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from billing_core.container import Services
from bot.cli import app
from bot.scheduler import build_scheduler
from bot.settings import Settings, get_settings
from tests.support.payments import ANN, Setup, Stripe


@pytest.fixture
def env(pay_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", pay_settings.database_url)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x")
    monkeypatch.setenv("STRIPE_API_BASE", pay_settings.stripe_api_base)
    monkeypatch.setenv("BILLING_TIMEZONE", "America/New_York")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("env")
def test_run_once_charges_on_the_due_date_in_the_billing_timezone_and_prints_the_counts(
    pay: Services, cards: Setup, stripe_api: Stripe
) -> None:
    assert pay.autopay is not None
    pay.autopay.turn_on(ANN, "acme")

    # 1 Dec 03:00 UTC is still 30 Nov in New York: INV-2 (due 1 Dec) is not due yet.
    early = CliRunner().invoke(app, ["autopay", "run-once", "--now", "2026-12-01T03:00:00+00:00"])
    due = CliRunner().invoke(app, ["autopay", "run-once", "--now", "2026-12-01T09:00:00-05:00"])
    again = CliRunner().invoke(app, ["autopay", "run-once", "--now", "2026-12-01T10:00:00-05:00"])

    assert early.exit_code == 0, early.output
    assert early.output.strip() == "charged 0, declined 0, skipped 0"
    assert due.output.strip() == "charged 1, declined 0, skipped 0"
    assert again.output.strip() == "charged 0, declined 0, skipped 0"
    assert [c["amount"] for c in stripe_api.succeeded_charges()] == [50050]


def test_the_scheduler_runs_the_autopay_pass_every_15_minutes(pay: Services, pay_settings: Settings) -> None:
    jobs = {job.id: job for job in build_scheduler(pay, pay_settings).get_jobs()}

    assert jobs["autopay"].trigger.interval.total_seconds() == 15 * 60
    assert jobs["autopay"].max_instances == 1
