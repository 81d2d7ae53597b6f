"""Replicas are replaced one at a time: the previous release keeps serving a database that this
release has already upgraded (issue 23, item 5).

The previous release's own code is taken from the repository's history (``git archive``) and run
as ``billing-bot serve`` on the upgraded database: it still answers ``/billing balance`` and takes a
payment. (That release migrates itself on start; it finds its own head, 0001, in
``alembic_version`` and leaves the database alone.)
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_core.db.database import Database
from billing_core.db.schema import schema_differences, schema_status
from devtools.loopback.slack_api import SlackAPI
from tests.support.bot_harness import wait_until
from tests.support.localstripe_server import LocalStripe
from tests.support.serve_process import pay_invoice_body, start_serve
from tests.upgrades.deployments import Deployment, deploy, empty_database
from tests.upgrades.releases import RELEASES

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process

PREVIOUS_RELEASE = list(RELEASES)[-1]
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def previous_release(tmp_path: Path) -> Path:
    """The previous release's packages, unpacked from the repository's history."""
    if not (REPOSITORY / ".git").exists():
        pytest.skip("needs the repository's history (a git clone)")
    target = tmp_path / "previous-release"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", PREVIOUS_RELEASE, "bot", "billing_core", "handlers"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


@pytest.fixture
def upgraded(tmp_path: Path, slack: SlackAPI, localstripe_server: LocalStripe) -> Iterator[Deployment]:
    with empty_database(tmp_path, "rolling") as url:
        deployment = deploy(PREVIOUS_RELEASE, url, tmp_path, slack, localstripe_server)
        assert deployment.cli("db", "upgrade").returncode == 0
        yield deployment


def test_the_previous_release_answers_and_takes_a_payment_on_a_database_upgraded_to_head(
    upgraded: Deployment, previous_release: Path
) -> None:
    env = {**upgraded.env, "PYTHONPATH": str(previous_release)}
    imported = subprocess.run(
        [sys.executable, "-c", "import bot; print(bot.__file__)"],
        env=env,
        cwd=previous_release,
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip().startswith(str(previous_release)), "the previous release's code is what runs"

    process = start_serve(env, previous_release, name="previous-release")
    try:
        assert "$1,750.50" in upgraded.ask(process, "balance")
        assert process.post_slack(pay_invoice_body(upgraded.card, "INV-1")).status_code == 200
        wait_until(lambda: upgraded.invoice_status("INV-1") == "paid", 30, "INV-1 paid by the previous release")
    finally:
        process.stop()
    assert [(status, amount) for status, amount, _ in upgraded.payments()] == [
        ("succeeded", 9900),
        ("succeeded", 125000),
    ]
    db = Database(upgraded.url)
    try:
        assert not schema_status(db).pending and schema_differences(db) == []
    finally:
        db.dispose()
