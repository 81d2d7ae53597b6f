"""The app installed in several workspaces and one Enterprise Grid organization (OAuth).

Real parts: the database with slack-sdk's installation store (several installations), the Slack
Web API stand-in answering per token (each workspace sees only its own people), the reminder
sweep, the Bolt app with our listeners for the uninstall events.
"""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AuditEventRecord, PrincipalRecord
from billing_core.identity.directory import PrincipalDirectory
from billing_core.notifications import CardAdded
from billing_core.views import PaymentMethodView
from bot.settings import Settings
from bot.slack.app import build_bolt_app
from bot.slack.notifier import SlackNotifier
from bot.slack.oauth import installation_store
from bot.slack.seen_people import SeenPeople
from bot.slack.workspaces import SlackWorkspaces
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import event_body, slash_command_body
from tests.support.bolt_requests import signed_request
from tests.support.many_workspaces import (
    GRID,
    GRID_TOKEN,
    SECRET,
    install_workspaces,
    prove,
    workspaces_settings,
)
from tests.support.services import MakeServices
from tests.support.slack_calls import answered


@pytest.fixture
def settings(database_url: str, slack_api: SlackAPI) -> Settings:
    return workspaces_settings(database_url, slack_api)


@pytest.fixture
def services(
    settings: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI, make_services: MakeServices
) -> Services:
    return install_workspaces(settings, db, clock, slack_api, make_services)


def _dms(api: SlackAPI) -> list[tuple[str | None, str, str]]:
    """(token, DM channel Slack posted in, everything shown) of each reminder DM (posted to the user id)."""
    return [
        (c.token, str(answered(c)["channel"]), c.json_args["text"] + json.dumps(c.json_args.get("blocks")))
        for c in api.calls("chat.postMessage")
        if c.ok
    ]


def test_a_contact_is_reminded_once_in_the_workspace_where_they_used_the_bot(
    services: Services, slack_api: SlackAPI, db: Database
) -> None:
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee", tz="UTC", team_id="TACME", also_in=("TVENDOR",))
    prove(db, "slack:TACME:WANN", "ann@acme.test")

    services.reminders.run_sweep()

    [(token, _channel, shown)] = [dm for dm in _dms(slack_api) if dm[1] == "DWANN"]
    assert token == "xoxb-acme" and "INV-1" in shown  # her workspace's installation, with the details
    assert all(token != "xoxb-vendor" for token, _, _ in _dms(slack_api))  # never once per workspace


def test_a_contact_never_seen_is_found_where_a_colleague_uses_the_bot_and_gets_no_details_until_proven(
    services: Services, slack_api: SlackAPI, db: Database
) -> None:
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee", tz="UTC", team_id="TACME")
    slack_api.add_user("WBOB", "bob@acme.test", "Bob Ray", tz="UTC", team_id="TBETA")
    prove(db, "slack:TACME:WANN", "ann@acme.test")  # Bob never used the bot; Ann did, in TACME

    services.reminders.run_sweep()

    dms = {channel: (token, shown) for token, channel, shown in _dms(slack_api)}
    assert "DWBOB" not in dms  # Bob is not in TACME, and TBETA never saw anyone of this account
    assert dms["DWANN"][0] == "xoxb-acme"
    assert [c.token for c in slack_api.calls("users.lookupByEmail")] == ["xoxb-acme"]


def test_a_webhook_dm_to_a_grid_user_goes_through_the_organization_install(
    services: Services, settings: Settings, slack_api: SlackAPI
) -> None:
    store = installation_store(settings, services.db.engine)
    workspaces = SlackWorkspaces(
        store=store, client_for_token=lambda token: WebClient(token=token, base_url=slack_api.base_url)
    )
    slack_api.add_user("WG1", "gina@acme.test", "Gina", team_id="TGRID1", enterprise_id=GRID)
    notifier = SlackNotifier(workspaces.client_for)

    card = PaymentMethodView("pm_1", "visa", "4242", 12, 2030, is_default=True)
    notifier.tell_principal("slack:EGRID:TGRID1:WG1", CardAdded("Acme Corp", card))
    notifier.shutdown()

    [dm] = slack_api.calls("chat.postMessage")
    assert dm.token == GRID_TOKEN and dm.json_args["channel"] == "DWG1"


def test_a_person_seen_just_before_an_uninstall_is_not_written_back_by_the_next_batch(
    services: Services, settings: Settings, slack_api: SlackAPI, db: Database, clock: FixedClock
) -> None:
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee", tz="UTC", team_id="TACME")
    slack_api.add_user("WBOB", "bob@acme.test", "Bob Ray", tz="UTC", team_id="TBETA")
    seen = SeenPeople(PrincipalDirectory(db, clock), flush_seconds=3600)  # the batch is written when we say
    app = build_bolt_app(services, settings, seen=seen)
    for user, team in (("WANN", "TACME"), ("WBOB", "TBETA")):
        command = slash_command_body("balance", user_id=user, team_id=team, response_url=slack_api.response_url)
        assert app.dispatch(signed_request(SECRET, command)).status == 200
    slack_api.wait_for("response_url", count=2)  # both got their balance: the app has seen them

    body = event_body({"type": "app_uninstalled"}, team_id="TACME", event_id="EvUninstallSeen")
    assert app.dispatch(signed_request(SECRET, body)).status == 200
    seen.flush()

    with db.read() as session:
        principals = set(session.scalars(select(PrincipalRecord.principal)))
    assert principals == {"slack:TBETA:WBOB"}  # Acme's workspace left; Bob's still reaches him


def test_people_seen_are_written_to_their_own_database_when_it_closes(
    services: Services, settings: Settings, slack_api: SlackAPI, database_url: str
) -> None:
    slack_api.add_user("WBOB", "bob@acme.test", "Bob Ray", tz="UTC", team_id="TBETA")
    app = build_bolt_app(services, settings)
    command = slash_command_body("balance", user_id="WBOB", team_id="TBETA", response_url=slack_api.response_url)
    assert app.dispatch(signed_request(SECRET, command)).status == 200
    slack_api.wait_for("response_url")  # Bob got his balance: the app has seen him

    services.db.dispose()  # the app's batch (every 30 s) is flushed now, into this database, and stops

    with Database(database_url).read() as session:
        assert set(session.scalars(select(PrincipalRecord.principal))) == {"slack:TBETA:WBOB"}


def test_an_uninstall_removes_the_workspace_tokens_and_its_identity_links_and_nothing_else(
    services: Services, settings: Settings, slack_api: SlackAPI, db: Database
) -> None:
    prove(db, "slack:TACME:WANN", "ann@acme.test")
    prove(db, "slack:TBETA:WBOB", "bob@acme.test")
    app = build_bolt_app(services, settings)
    body = event_body({"type": "app_uninstalled"}, team_id="TACME", event_id="EvUninstall")
    assert app.dispatch(signed_request(SECRET, body)).status == 200

    store = installation_store(settings, db.engine)
    assert store.find_bot(enterprise_id=None, team_id="TACME") is None
    assert store.find_bot(enterprise_id=None, team_id="TBETA") is not None
    with db.read() as session:
        principals = set(session.scalars(select(PrincipalRecord.principal)))
        audited = session.scalars(select(AuditEventRecord.action)).all()
    assert principals == {"slack:TBETA:WBOB"}
    assert "slack.app_uninstalled" in audited
