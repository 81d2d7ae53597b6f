"""``billing-bot invoices sync`` as an operator runs it: the command (in this process,
``tests.support.cli``) against Stripe Billing (the documented-invoice stand-in in front of
localstripe), exit codes and its summary line."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.test_import_command import write
from tests.integration.core.sample_data import sample
from tests.support import cli
from tests.support.localstripe_server import LocalStripe
from tests.support.stripe_billing import StripeBilling
from tests.support.stripe_helper import StripeHelper


@pytest.fixture
def billing(localstripe: LocalStripe) -> Iterator[StripeBilling]:
    with StripeBilling(localstripe.base_url) as stand_in:
        yield stand_in


def run_cli(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cli.run_cli(*args, env=cli.cli_env(("SLACK_", "STRIPE_", "INVOICE_"), DATABASE_URL=database_url, **env))


def test_sync_brings_in_the_finalized_invoices_and_says_what_it_did(
    tmp_path: Path,
    database_url: str,
    billing: StripeBilling,
    localstripe: LocalStripe,
) -> None:
    customer = StripeHelper(localstripe).customer("ann@acme.test")
    data = sample()
    data["accounts"][0]["stripe_customer_id"] = customer
    assert run_cli("import", str(write(tmp_path, data)), database_url=database_url).returncode == 0
    created = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())
    billing.finalize(billing.create_invoice(customer, [("Hosting", 30000)], created=created))
    billing.create_invoice(customer, [("Still a draft", 100)], created=created)
    env = {"INVOICE_SOURCE": "stripe", "STRIPE_API_KEY": "sk_test_x", "STRIPE_API_BASE": billing.base_url}
    first = run_cli("invoices", "sync", "--since", "2026-11-01", database_url=database_url, **env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "customers 1: invoices 1 created, 0 updated, 0 closed, 0 unchanged, 1 ignored, 0 deferred"
    )
    later = run_cli("invoices", "sync", "--since", "2026-11-03", database_url=database_url, **env)
    assert later.stdout.strip().startswith("customers 1: invoices 0 created")


def test_sync_without_stripe_as_the_source_fails_in_one_line(database_url: str) -> None:
    result = run_cli("invoices", "sync", database_url=database_url, STRIPE_API_KEY="sk_test_x")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "configuration error: invoices sync needs INVOICE_SOURCE=stripe (invoices come from imports and the API)"
    ]


def test_a_since_that_is_not_a_date_is_refused(database_url: str) -> None:
    result = run_cli("invoices", "sync", "--since", "yesterday", database_url=database_url, INVOICE_SOURCE="stripe")
    assert result.returncode != 0 and "--since must be a date" in result.stderr
