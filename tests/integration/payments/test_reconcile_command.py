"""``billing-bot payments reconcile`` prints a one-line summary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.errors import PaymentProviderUnavailable
from bot.cli import app
from bot.settings import Settings, get_settings
from tests.integration.payments.test_unknown_outcome import ChargesThen
from tests.support.payments import ANN, RecordingNotifier, Setup, Stripe, services_with


@pytest.fixture
def env(pay_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", pay_settings.database_url)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x")
    monkeypatch.setenv("STRIPE_API_BASE", pay_settings.stripe_api_base)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_reconcile_settles_a_payment_left_pending_and_prints_a_summary(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    env: None,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    stripe_api: Stripe,
) -> None:
    lost = ChargesThen(stripe_api.api_base, PaymentProviderUnavailable("read timed out"))
    flaky = services_with(pay_settings, db, clock, notifier, lost)
    started = flaky.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    assert flaky.require_payments().service.execute(started.id).status == "pending"

    result = CliRunner().invoke(app, ["payments", "reconcile"])

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        "reconciled: checked 1, succeeded 1, failed 0, requires action 0, still pending 0, errors 0, "
        "refunds and disputes caught up 0"
    )
    assert pay.require_payments().service.get(ANN, "acme", started.id).status == "succeeded"
    assert len(stripe_api.intents()) == 1


def test_reconcile_without_a_stripe_key_names_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///:memory:")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["payments", "reconcile"])
    get_settings.cache_clear()

    assert result.exit_code != 0
    assert "STRIPE_API_KEY" in result.output
