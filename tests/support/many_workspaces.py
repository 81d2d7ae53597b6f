"""Several workspaces and one Enterprise Grid organisation installed (OAuth), for
tests/integration/test_many_workspaces.py and tests/security/test_informational_edges.py."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import PrincipalRecord
from billing_core.identity.directory import PrincipalDirectory
from bot.settings import Settings
from bot.slack.oauth import installation_store
from devtools.loopback.slack_api import SlackAPI
from tests.support.services import MakeServices

SECRET = "many-workspaces-secret"
TOKENS = {"TVENDOR": "xoxb-vendor", "TACME": "xoxb-acme", "TBETA": "xoxb-beta"}
GRID, GRID_TOKEN = "EGRID", "xoxb-grid-org"
ACCOUNTS = {
    "accounts": [
        {
            "id": "acme",
            "name": "Acme Corp",
            "currency": "usd",
            "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}, {"email": "bob@acme.test", "name": "Bob Ray"}],
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


def installation(team: str | None, token: str, enterprise: str | None = None) -> Installation:
    return Installation(
        app_id="A111",
        enterprise_id=enterprise,
        team_id=team,
        bot_token=token,
        bot_id=f"B{team or enterprise}",
        bot_user_id="UBOT",
        bot_scopes=["chat:write"],
        user_id="UINSTALLER",
        installed_at=time.time(),
        is_enterprise_install=team is None,
    )


def workspaces_settings(database_url: str, slack_api: SlackAPI) -> Settings:
    """OAuth settings (signing secret ``SECRET``) against the Slack stand-in."""
    return Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="shh",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack_api.base_url,
        IDENTITY_VERIFICATION="email_code",
    )


def install_workspaces(
    settings: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI, make_services: MakeServices
) -> Services:
    """Three workspaces and a Grid organisation installed, Acme imported, the clock at 15:00 on the due day."""
    store = installation_store(settings, db.engine)
    for team, token in TOKENS.items():
        store.save(installation(team, token))
        slack_api.add_workspace(team, token)
    store.save(installation(None, GRID_TOKEN, GRID))
    slack_api.add_workspace("TGRID1", GRID_TOKEN)
    built = make_services(settings=settings, accounts=ACCOUNTS)
    clock.set(datetime(2026, 11, 25, 15, tzinfo=UTC))  # due today, within working hours in UTC
    return built


def prove(db: Database, principal: str, email: str) -> None:
    PrincipalDirectory(db, FixedClock(datetime(2026, 11, 20, tzinfo=UTC))).record_seen(principal, email)
    with db.transaction() as session:
        record = session.scalars(select(PrincipalRecord).where(PrincipalRecord.principal == principal)).one()
        record.verified_email, record.verified_at = email, datetime(2026, 11, 20, tzinfo=UTC)
