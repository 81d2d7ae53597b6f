"""A workspace taken off ``SLACK_INSTALL_ALLOWED_TEAMS`` gets nothing more from the bot: no reminder,
no DM, no staff post, through the token it still has stored (issue 25, item 4).

Real parts: the database with slack-sdk's installation store (several installations saved while
every workspace was allowed), the Slack Web API stand-in answering per token, the reminder sweep,
the notifier's DMs and the support channel's client as ``serve`` wires them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import PrincipalRecord
from billing_core.identity.directory import PrincipalDirectory
from billing_core.notifications import CardAdded
from billing_core.views import PaymentMethodView
from bot.compose import build_services
from bot.settings import Settings
from bot.slack.notifier import SlackNotifier
from bot.slack.oauth import installation_store
from bot.slack.workspaces import Workspace, slack_workspaces
from devtools.loopback.slack_api import SlackAPI
from tests.support.settings import settings_from

TOKENS = {"TVENDOR": "xoxb-vendor", "TACME": "xoxb-acme"}
ACCOUNTS = {
    "accounts": [
        {
            "id": "acme",
            "name": "Acme Corp",
            "currency": "usd",
            "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}, {"email": "vic@acme.test", "name": "Vic"}],
            "invoices": [
                {
                    "number": "INV-1",
                    "issued_on": "2026-11-01",
                    "due_on": "2026-11-25",
                    "amount_due": 125000,
                    "currency": "usd",
                    "status": "open",
                }
            ],
        }
    ]
}


def oauth_settings(database_url: str, slack_api: SlackAPI, **extra: str) -> Settings:
    return settings_from(
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="shh",
        SLACK_SIGNING_SECRET="allow-list-secret",
        SLACK_API_URL=slack_api.base_url,
        IDENTITY_VERIFICATION="email_code",
        **extra,
    )


def _prove(db: Database, principal: str, email: str) -> None:
    PrincipalDirectory(db, FixedClock(datetime(2026, 11, 20, tzinfo=UTC))).record_seen(principal, email)
    with db.transaction() as session:
        record = session.scalars(select(PrincipalRecord).where(PrincipalRecord.principal == principal)).one()
        record.verified_email, record.verified_at = email, datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def narrowed(database_url: str, db: Database, clock: FixedClock, slack_api: SlackAPI) -> Iterator[Settings]:
    """Both workspaces installed while every workspace was allowed; then the list names only TVENDOR."""
    store = installation_store(oauth_settings(database_url, slack_api), db.engine)
    for team, token in TOKENS.items():
        store.save(
            Installation(
                app_id="A111",
                team_id=team,
                bot_token=token,
                bot_id=f"B{team}",
                bot_user_id="UBOT",
                bot_scopes=["chat:write"],
                user_id="UINSTALLER",
                installed_at=time.time(),
            )
        )
        slack_api.add_workspace(team, token)
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee", tz="UTC", team_id="TACME")
    slack_api.add_user("WVIC", "vic@acme.test", "Vic", tz="UTC", team_id="TVENDOR")
    _prove(db, "slack:TACME:WANN", "ann@acme.test")
    _prove(db, "slack:TVENDOR:WVIC", "vic@acme.test")
    clock.set(datetime(2026, 11, 25, 15, tzinfo=UTC))  # INV-1 is due today, within working hours
    yield oauth_settings(database_url, slack_api, SLACK_INSTALL_ALLOWED_TEAMS="TVENDOR")


def _posted(api: SlackAPI) -> list[tuple[str | None, str]]:
    return [(c.token, json.dumps(c.json_args)) for c in api.calls("chat.postMessage")]


def test_reminders_are_not_sent_through_a_workspace_taken_off_the_allow_list(
    narrowed: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI
) -> None:
    services: Services = build_services(narrowed, clock=clock, db=db)
    services.importer.run(ACCOUNTS)
    services.reminders.run_sweep()
    posted = _posted(slack_api)
    assert [token for token, _ in posted] == ["xoxb-vendor"]  # the allowed workspace is still reminded
    assert all(c.token != "xoxb-acme" for c in slack_api.calls())  # not even a lookup through TACME's token


def test_dms_and_the_support_channel_never_use_a_workspace_taken_off_the_allow_list(
    narrowed: Settings, slack_api: SlackAPI, db: Database
) -> None:
    store = installation_store(narrowed.model_copy(update={"support_slack_team": "TACME"}), db.engine)
    workspaces = slack_workspaces(
        narrowed.model_copy(update={"support_slack_team": "TACME"}), store=store, default_client=None
    )
    assert workspaces.client_for(Workspace("TACME")) is None and workspaces.support_client() is None
    assert isinstance(workspaces.client_for(Workspace("TVENDOR")), WebClient)
    notifier = SlackNotifier(workspaces.client_for)
    card = PaymentMethodView("pm_1", "visa", "4242", 12, 2030, is_default=True)
    notifier.tell_principal("slack:TACME:WANN", CardAdded("Acme Corp", card))
    notifier.tell_principal("slack:TVENDOR:WVIC", CardAdded("Acme Corp", card))
    notifier.shutdown()
    assert [token for token, _ in _posted(slack_api)] == ["xoxb-vendor"]
