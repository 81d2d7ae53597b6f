"""``billing-bot payments show`` and ``billing-bot webhooks retry``, as an operator runs them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord
from billing_core.payments.settlement import lock_payment, mark_succeeded
from bot.compose import build_services
from bot.settings import Settings
from tests.support import cli
from tests.support.event_receiver import EventReceiver
from tests.support.payment_rows import START, add_account, add_payment

SECRET = "whsec_operator_tests"
CLEARED = ("SLACK_", "STRIPE_", "SMTP_", "OUTBOUND_")


def run_cli(*args: str, database_url: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """The command in this process (``tests.support.cli``)."""
    return cli.run_cli(*args, env=cli.cli_env(CLEARED, DATABASE_URL=database_url, **extra))


def run_process(*args: str, database_url: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot <args>`` as a separate process, as cron runs it."""
    env = cli.cli_env(CLEARED, DATABASE_URL=database_url, **extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with EventReceiver(SECRET) as server:
        yield server


@pytest.fixture
def settled(database_url: str, db: Database, clock: FixedClock, receiver: EventReceiver) -> int:
    """A payment settled with webhooks on; its event recorded but not sent yet."""
    settings = Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        OUTBOUND_WEBHOOK_URL=receiver.url("/hooks"),
        OUTBOUND_WEBHOOK_SECRET=SECRET,
    )
    build_services(settings, clock=clock, db=db)
    payment = add_payment(
        db, add_account(db), created_at=START, status="pending", invoices=("INV-9",), intent="pi_operator"
    )
    with db.transaction() as session:
        mark_succeeded(session, lock_payment(session, payment), now=clock.now())
    return payment


def test_payments_show_prints_the_payment_its_stripe_status_and_its_deliveries(settled: int, database_url: str) -> None:
    result = run_cli("payments", "show", str(settled), database_url=database_url)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"payment_id: {settled}" in out and "status: succeeded" in out and "invoices: INV-9" in out
    assert "stripe_payment_intent_id: pi_operator" in out
    assert "stripe_status: not asked (STRIPE_API_KEY is not set)" in out
    assert "deliveries: 1" in out and "payment.succeeded via webhook: queued after 0 attempt(s)" in out


def test_payments_show_of_an_unknown_payment_is_a_one_line_error(database_url: str) -> None:
    result = run_cli("payments", "show", "999", database_url=database_url)
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1


def test_webhooks_retry_failed_sends_the_failed_events_again_once(
    settled: int, database_url: str, db: Database, receiver: EventReceiver
) -> None:
    with db.transaction() as session:
        session.execute(update(OutboundEventRecord).values(status="failed", next_attempt_at=None, attempts=40))
    env = {"OUTBOUND_WEBHOOK_URL": receiver.url("/hooks"), "OUTBOUND_WEBHOOK_SECRET": SECRET}
    result = run_cli("webhooks", "retry", "--failed", database_url=database_url, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "re-queued 1; delivered 1, retrying 0, failed 0"
    [event] = receiver.acknowledged()
    assert event["type"] == "payment.succeeded" and event["data"]["payment_id"] == settled
    again = run_cli("webhooks", "retry", "--failed", database_url=database_url, **env)
    assert again.stdout.strip() == "no event to retry"
    by_id = run_cli("webhooks", "retry", "--event", event["id"], database_url=database_url, **env)
    assert by_id.returncode == 0 and "delivered 1" in by_id.stdout
    assert [e["id"] for e in receiver.acknowledged()] == [event["id"]] * 2  # the same id, on request


def test_webhooks_retry_needs_exactly_one_choice_and_a_configured_url(database_url: str) -> None:
    neither = run_cli("webhooks", "retry", database_url=database_url)
    assert neither.returncode != 0 and "exactly one of" in neither.stderr
    unconfigured = run_cli("webhooks", "retry", "--failed", database_url=database_url)
    assert unconfigured.returncode != 0 and "OUTBOUND_WEBHOOK_URL" in unconfigured.stderr
