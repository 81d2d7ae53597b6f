"""Org-wide (Enterprise Grid) installs: ``team_access_granted`` publishes the Home of the people the
bot knows there; ``team_access_revoked`` forgets that workspace's people and cached clients, and
nothing else (issue 28, item 3). Signed events into the OAuth Bolt app, the Slack stand-in."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AuditEventRecord, PrincipalRecord
from billing_core.identity.directory import PrincipalDirectory
from bot.settings import Settings
from bot.slack.app import build_bolt_app
from bot.slack.oauth import installation_store
from bot.slack.workspaces import SlackWorkspaces, Workspace, slack_workspaces
from devtools.loopback.slack_api import SlackAPI
from tests.support.bolt_requests import signed_request
from tests.support.oauth_settings import oauth_settings
from tests.support.services import MakeServices

SECRET = "team-access-secret"
GRID, TOKEN = "EGRID", "xoxb-grid-org"


@pytest.fixture
def settings(database_url: str, slack_api: SlackAPI) -> Settings:
    return oauth_settings(database_url, slack_api.base_url, SECRET)


@pytest.fixture
def services(settings: Settings, db: Database, clock: FixedClock, make_services: MakeServices) -> Services:
    installation_store(settings, db.engine).save(Installation(
        app_id="A111", enterprise_id=GRID, team_id=None, bot_token=TOKEN, bot_id="BGRID", bot_user_id="UBOT",
        bot_scopes=["chat:write"], user_id="UADMIN", installed_at=time.time(), is_enterprise_install=True,
    ))  # fmt: skip
    directory = PrincipalDirectory(db, clock)
    directory.record_seen(f"slack:{GRID}:TGRID1:WONE", "one@acme.test")
    directory.record_seen(f"slack:{GRID}:TGRID2:WTWO", "two@acme.test")
    return make_services(settings=settings)


@pytest.fixture
def workspaces(settings: Settings, services: Services) -> SlackWorkspaces:
    return slack_workspaces(settings, store=installation_store(settings, services.db.engine), default_client=None)


@pytest.fixture
def app(services: Services, settings: Settings, workspaces: SlackWorkspaces) -> App:
    return build_bolt_app(services, settings, workspaces=workspaces)


def org_event(app: App, kind: str, teams: list[str]) -> Any:
    body = json.dumps({
        "token": "x", "team_id": teams[0], "enterprise_id": GRID, "api_app_id": "A111", "type": "event_callback",
        "event": {"type": kind, "team_ids": teams}, "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": int(time.time()), "is_enterprise_install": True,
        "authorizations": [{"enterprise_id": GRID, "team_id": None, "user_id": "UBOT", "is_bot": True,
                            "is_enterprise_install": True}],
    }).encode()  # fmt: skip
    return app.dispatch(signed_request(SECRET, body))


def principals(db: Database) -> set[str]:
    with db.read() as session:
        return set(session.scalars(select(PrincipalRecord.principal)))


def audited(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AuditEventRecord.action)))


def test_access_revoked_for_one_workspace_forgets_its_people_and_keeps_the_others(
    app: App, db: Database, workspaces: SlackWorkspaces, slack_api: SlackAPI
) -> None:
    assert workspaces.client_for(Workspace("TGRID1", GRID)) is not None  # cached now

    assert org_event(app, "team_access_revoked", ["TGRID1"]).status == 200

    assert principals(db) == {f"slack:{GRID}:TGRID2:WTWO"}
    assert "slack.team_access_revoked" in audited(db)
    assert Workspace("TGRID1", GRID) not in workspaces._cache  # the cached client is gone
    assert installation_store_has_org(app)  # the organization's install serves its other workspaces


def installation_store_has_org(app: App) -> bool:
    store = app.installation_store
    assert store is not None
    return store.find_bot(enterprise_id=GRID, team_id=None, is_enterprise_install=True) is not None


def test_access_granted_publishes_the_home_of_the_people_known_there(
    app: App, db: Database, slack_api: SlackAPI
) -> None:
    slack_api.add_user("WTWO", "two@acme.test", "Two", team_id="TGRID2", enterprise_id=GRID)

    assert org_event(app, "team_access_granted", ["TGRID2", "TGRID3"]).status == 200

    [published] = slack_api.wait_for("views.publish")
    assert published.args["user_id"] == "WTWO" and published.token == TOKEN
    assert slack_api.calls("chat.postMessage") == []  # no unsolicited welcome DM
    assert "slack.team_access_granted" in audited(db)
