"""A database written by each landed release upgrades in place with ``billing-bot db upgrade``,
keeps every row, and the bot works on it afterwards (issue 23).

Each release's database is built by that release's own revision 0001 (``tests/upgrades/releases``)
and holds what a used deployment holds. Everything runs as an operator and Slack would: the
``billing-bot`` command line and signed requests into ``billing-bot serve``. On PostgreSQL with
``TEST_DATABASE_URL``, else on a SQLite file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_core.db.database import Database
from billing_core.db.schema import schema_differences
from billing_core.db.tables import EscalationRecord, OutboundEventRecord
from billing_core.escalations.views import format_reference
from bot.compose import build_services
from bot.settings import Settings
from devtools.loopback.slack_api import SlackAPI
from tests.support.bot_harness import wait_until
from tests.support.localstripe_server import LocalStripe
from tests.support.serve_process import pay_invoice_body, start_serve
from tests.upgrades.deployments import Deployment, deploy, empty_database, head_and_chain
from tests.upgrades.old_databases import SEED_INTENT, row_counts, schema_snapshot
from tests.upgrades.releases import RELEASES

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process

HEAD, CHAIN = head_and_chain()


@pytest.fixture(params=list(RELEASES))
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, slack: SlackAPI, localstripe_server: LocalStripe
) -> Iterator[Deployment]:
    with empty_database(tmp_path, request.param) as url:
        yield deploy(
            request.param,
            url,
            tmp_path,
            slack,
            localstripe_server,
            OUTBOUND_WEBHOOK_URL="http://127.0.0.1:9/books",
            OUTBOUND_WEBHOOK_SECRET="whsec_books",
        )


def test_serve_and_the_commands_refuse_a_database_behind_this_release_in_one_line(deployment: Deployment) -> None:
    before = schema_snapshot(deployment.url)
    for command in (
        ["serve", "--no-scheduler", "--port", "0"],
        ["payments", "export"],
        ["import", "missing.json"],
        ["reminders", "preview"],
        ["audit"],
        ["console"],
    ):
        result = deployment.cli(*command)
        assert result.returncode != 0, command
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (command, result.stderr)
        assert "revision 0001" in lines[0] and "`billing-bot db upgrade`" in lines[0], lines[0]
        assert "Traceback" not in result.stdout
    status = deployment.cli("db", "status")
    assert status.returncode == 1
    assert status.stdout.splitlines() == ["current revision: 0001", f"head: {HEAD}", f"pending: {', '.join(CHAIN[1:])}"]
    assert schema_snapshot(deployment.url) == before, "a refused command changed the database"


def test_db_upgrade_keeps_every_row_and_a_second_run_changes_nothing(deployment: Deployment) -> None:
    rows = row_counts(deployment.url)
    upgraded = deployment.cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"database upgraded from 0001 to {HEAD}; it is up to date"
    after = row_counts(deployment.url)
    assert {table: after[table] for table in rows} == rows
    db = Database(deployment.url)
    try:
        assert schema_differences(db) == []
    finally:
        db.dispose()
    assert deployment.cli("db", "status").returncode == 0
    shape = schema_snapshot(deployment.url)
    again = deployment.cli("db", "upgrade")
    assert again.returncode == 0 and again.stdout.strip() == f"database is up to date (revision {HEAD})"
    assert schema_snapshot(deployment.url) == shape
    assert row_counts(deployment.url) == after


def test_after_the_upgrade_the_bot_shows_the_old_rows_and_takes_new_payments(deployment: Deployment) -> None:
    assert deployment.cli("db", "upgrade").returncode == 0
    process = start_serve(deployment.env, deployment.cwd, name=f"upgraded-{deployment.release}")
    try:
        history = deployment.ask(process, "history")
        assert "$99.00" in history and "INV-0" in history, history
        assert "$1,750.50" in deployment.ask(process, "balance")
        assert process.post_slack(pay_invoice_body(deployment.card, "INV-1")).status_code == 200
        wait_until(lambda: deployment.invoice_status("INV-1") == "paid", 30, "INV-1 paid after the upgrade")
        deployment.type_in_dm(process, "what do I owe?")
        wait_until(
            lambda: any("500.50" in json.dumps(c.json_args) for c in deployment.slack.calls("chat.postMessage")),
            20,
            "the chat's answer with the remaining balance",
        )
    finally:
        process.stop()
    statuses = [(status, amount) for status, amount, _ in deployment.payments()]
    assert statuses == [("succeeded", 9900), ("succeeded", 125000)]
    export = deployment.cli("payments", "export", "--format", "json")
    assert export.returncode == 0, export.stderr
    exported = json.loads(export.stdout)
    assert len(exported) == 2 and SEED_INTENT in export.stdout
    db = Database(deployment.url)
    try:
        with db.read() as session:
            escalation = session.get(EscalationRecord, deployment.seeded.escalation_id)
            assert escalation is not None and escalation.message == "The October usage looks doubled."
            events = [e.type for e in session.scalars(select(OutboundEventRecord))]
        assert "payment.succeeded" in events
        settings = Settings(_env_file=None, DATABASE_URL=deployment.url)
        reference = format_reference(deployment.seeded.escalation_id)
        detail = build_services(settings, db=db).escalations.detail(reference)  # what staff and the e-mail see
        assert detail.escalation.reference == reference and detail.escalation.account_name == "Acme Corp"
    finally:
        db.dispose()
    autopay = deployment.cli("autopay", "run-once")
    assert autopay.returncode == 0 and autopay.stdout.startswith("charged "), autopay.stderr
