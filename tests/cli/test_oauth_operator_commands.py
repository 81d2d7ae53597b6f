"""The operator's one-shot commands when the app is distributed by OAuth (no ``SLACK_BOT_TOKEN``),
run as cron would run them (once as a subprocess, else in this process: ``tests.support.cli``), the
database's installation store, the Slack stand-in answering each workspace's token with that
workspace's people only."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import PrincipalRecord
from billing_core.identity.directory import PrincipalDirectory
from bot.compose import build_services
from bot.slack.oauth import installation_store
from devtools.loopback.slack_api import SlackAPI
from tests.cli.test_operator_commands import run_cli, run_process
from tests.support.many_workspaces import ACCOUNTS
from tests.support.settings import settings_from
from tests.support.slack_calls import answered

TOKENS = {"TACME": "xoxb-acme", "TBETA": "xoxb-beta"}
OAUTH_ENV = {
    "SLACK_CLIENT_ID": "111.222",
    "SLACK_CLIENT_SECRET": "shh",
    "SLACK_SIGNING_SECRET": "s",
    "IDENTITY_VERIFICATION": "email_code",
}


def _installation(team: str, token: str) -> Installation:
    return Installation(
        app_id="A111",
        team_id=team,
        bot_token=token,
        bot_id=f"B{team}",
        bot_user_id="UBOT",
        bot_scopes=["chat:write"],
        user_id="UINSTALLER",
        installed_at=time.time(),
    )


def _prove(db: Database, principal: str, email: str) -> None:
    PrincipalDirectory(db, FixedClock(datetime(2026, 11, 20, tzinfo=UTC))).record_seen(principal, email)
    with db.transaction() as session:
        record = session.scalars(select(PrincipalRecord).where(PrincipalRecord.principal == principal)).one()
        record.verified_email, record.verified_at = email, datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def installed(database_url: str, db: Database, slack_api: SlackAPI) -> Iterator[dict[str, str]]:
    """Two workspaces installed over OAuth; Ann used the bot in TACME, Bob in TBETA."""
    env = {**OAUTH_ENV, "SLACK_API_URL": slack_api.base_url}
    settings = settings_from(DATABASE_URL=database_url, **env)
    store = installation_store(settings, db.engine)
    for team, token in TOKENS.items():
        store.save(_installation(team, token))
        slack_api.add_workspace(team, token)
    build_services(settings, db=db).importer.run(ACCOUNTS)
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee", tz="UTC", team_id="TACME")
    slack_api.add_user("WBOB", "bob@acme.test", "Bob Ray", tz="UTC", team_id="TBETA")
    _prove(db, "slack:TACME:WANN", "ann@acme.test")
    _prove(db, "slack:TBETA:WBOB", "bob@acme.test")
    yield env


@pytest.mark.process  # cron starts a process
def test_reminders_run_once_from_cron_sends_each_reminder_through_the_contacts_own_workspace(
    installed: dict[str, str],
    database_url: str,
    slack_api: SlackAPI,
) -> None:
    result = run_process(
        "reminders", "run-once", "--now", "2026-11-25T15:00:00+00:00", database_url=database_url, **installed
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "sent 2, skipped 0, failed 0"
    dms = {
        str(answered(c)["channel"]): (c.token, json.dumps(c.json_args.get("blocks")))
        for c in slack_api.calls("chat.postMessage")
        if c.ok
    }
    assert dms["DWANN"][0] == "xoxb-acme" and "INV-1" in dms["DWANN"][1]
    assert dms["DWBOB"][0] == "xoxb-beta" and "INV-1" in dms["DWBOB"][1]


def test_reminders_run_once_a_second_time_sends_nothing_again(
    installed: dict[str, str],
    database_url: str,
    slack_api: SlackAPI,
) -> None:
    run_cli("reminders", "run-once", "--now", "2026-11-25T15:00:00+00:00", database_url=database_url, **installed)
    again = run_cli(
        "reminders", "run-once", "--now", "2026-11-25T15:05:00+00:00", database_url=database_url, **installed
    )

    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "sent 0, skipped 0, failed 0"
    assert len([c for c in slack_api.calls("chat.postMessage") if c.ok]) == 2


def test_reminders_run_once_without_any_slack_credential_names_both_ways_to_configure_it(
    database_url: str,
) -> None:
    result = run_cli("reminders", "run-once", database_url=database_url)

    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "SLACK_BOT_TOKEN" in line and "SLACK_CLIENT_ID" in line
