"""Informational findings made robust anyway (issue 25, item 10).

* The chat listener answers in the asker's own DM, opened for them, never in whatever channel a
  (signed) event names: an event from Ann naming Peter's DM cannot post Ann's balance there.
* The uninstall listener acts on the workspace the event body names (``team_id``) only when it is
  the one Bolt authorized (``authorizations[0]``); if they disagree nothing is removed.
* "Last seen" records buffered in memory are written when ``serve`` gets SIGTERM (uvicorn re-raises
  the signal after its graceful shutdown, so atexit never ran), so later reminders go where people are.

Real parts: the whole bot over signed HTTP (``full_run``); Bolt with the installation store on the
database and the Slack stand-in; ``billing-bot serve`` as a process, stopped with SIGTERM.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AuditEventRecord, PrincipalRecord
from bot.settings import Settings
from bot.slack.app import build_bolt_app
from bot.slack.oauth import installation_store
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import event_body, slash_command_body
from tests.security.full_run import ANN_ID, FullRun
from tests.support.bolt_requests import signed_request
from tests.support.bot_harness import wait_until
from tests.support.many_workspaces import SECRET, install_workspaces, prove, workspaces_settings
from tests.support.sample_accounts import PETER_ID
from tests.support.serve_process import serve_env, start_serve
from tests.support.services import MakeServices
from tests.support.template_db import migrated_sqlite_url


@pytest.fixture
def settings(database_url: str, slack_api: SlackAPI) -> Settings:
    return workspaces_settings(database_url, slack_api)


@pytest.fixture
def services(
    settings: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI, make_services: MakeServices
) -> Services:
    return install_workspaces(settings, db, clock, slack_api, make_services)


def test_a_dm_event_naming_someone_elses_dm_channel_is_answered_in_the_askers_own_dm(
    full_run: FullRun,
) -> None:
    event = {
        "type": "message",
        "channel": f"D{PETER_ID}",
        "channel_type": "im",
        "user": ANN_ID,
        "text": "what is my balance",
        "ts": f"{time.time():.6f}",
        "team": "T111",
    }
    assert full_run.event(event).status_code == 200
    [answer] = full_run.wait_calls("chat.postMessage", 1)
    assert answer.json_args["channel"] == f"D{ANN_ID}" and "thread_ts" not in answer.json_args
    assert "$" in json.dumps(answer.json_args)  # her balance, to her
    assert all(call.json_args.get("channel") != f"D{PETER_ID}" for call in full_run.slack.calls())


def _uninstall(settings: Settings, services: Services, body_team: str, authorized_team: str) -> int:
    body = json.loads(event_body({"type": "app_uninstalled"}, team_id=authorized_team, event_id="EvUninstall"))
    body["team_id"] = body_team  # authorizations[0] keeps the authorized workspace
    raw = json.dumps(body).encode()
    app = build_bolt_app(services, settings)
    return app.dispatch(signed_request(SECRET, raw)).status


def test_an_uninstall_whose_body_names_another_workspace_than_it_was_authorized_for_removes_nothing(
    services: Services, settings: Settings, db: Database
) -> None:
    prove(db, "slack:TACME:WANN", "ann@acme.test")
    prove(db, "slack:TBETA:WBOB", "bob@acme.test")
    assert _uninstall(settings, services, body_team="TBETA", authorized_team="TACME") == 200
    store = installation_store(settings, db.engine)
    assert store.find_bot(enterprise_id=None, team_id="TACME") is not None
    assert store.find_bot(enterprise_id=None, team_id="TBETA") is not None
    with db.read() as session:
        principals = set(session.scalars(select(PrincipalRecord.principal)))
        audited = session.execute(select(AuditEventRecord.action, AuditEventRecord.outcome)).all()
    assert principals == {"slack:TACME:WANN", "slack:TBETA:WBOB"}
    assert ("slack.app_uninstalled", "refused") in [tuple(row) for row in audited]


def test_an_uninstall_whose_body_and_authorization_agree_removes_that_workspace(
    services: Services, settings: Settings, db: Database
) -> None:
    prove(db, "slack:TBETA:WBOB", "bob@acme.test")
    assert _uninstall(settings, services, body_team="TBETA", authorized_team="TBETA") == 200
    store = installation_store(settings, db.engine)
    assert store.find_bot(enterprise_id=None, team_id="TBETA") is None
    assert store.find_bot(enterprise_id=None, team_id="TACME") is not None


@pytest.mark.process
def test_where_people_used_the_bot_is_written_when_serve_is_stopped_with_sigterm(tmp_path: Path) -> None:
    url = migrated_sqlite_url(tmp_path / "sigterm.db")
    prepare_sample_accounts(url)
    with SlackAPI() as slack:
        slack.add_user(ANN_ID, "ann@acme.test", "Ann Lee")
        process = start_serve(serve_env(url, slack.base_url, "http://127.0.0.1:9"), tmp_path)
        try:
            body = slash_command_body("balance", user_id=ANN_ID, response_url=slack.response_url)
            assert process.post_slack(body).status_code == 200
            wait_until(lambda: bool(slack.calls("users.info")), 10, "Ann to be looked up")
        finally:
            process.stop()  # SIGTERM, well within the 30 s between flushes
        assert process.process.returncode is not None
    db = Database(url)
    try:
        with db.read() as session:
            seen = session.execute(select(PrincipalRecord.email, PrincipalRecord.last_seen_at)).all()
    finally:
        db.dispose()
    assert [(email, last is not None) for email, last in seen] == [("ann@acme.test", True)]


def prepare_sample_accounts(url: str) -> None:
    """The sample accounts on the migrated database at ``url``."""
    from bot.compose import build_services
    from tests.support.sample_accounts import SAMPLE

    db = Database(url)
    try:
        build_services(Settings(_env_file=None, DATABASE_URL=url), db=db).importer.run(SAMPLE)
    finally:
        db.dispose()
