"""``billing-bot autopay run-once`` when the app is distributed by OAuth (no ``SLACK_BOT_TOKEN``):
the charge's DM goes through the installation of the contact's own workspace, read from the
database's installation store, with the Slack Web API stand-in answering per token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import update
from typer.testing import CliRunner

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import PrincipalRecord
from billing_core.identity.directory import PrincipalDirectory
from bot.cli import app
from bot.settings import Settings, get_settings
from bot.slack.oauth import installation_store
from devtools.loopback.slack_api import SlackAPI
from tests.support.payments import ANN, Setup, Stripe
from tests.support.sample_accounts import ANN_ID
from tests.support.slack_calls import answered

OAUTH = {
    "SLACK_CLIENT_ID": "111.222",
    "SLACK_CLIENT_SECRET": "shh",
    "SLACK_SIGNING_SECRET": "s",
    "IDENTITY_VERIFICATION": "email_code",
    "SLACK_TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),  # tokens stored encrypted, as in production
}


@pytest.fixture
def oauth_env(
    pay_settings: Settings,
    db: Database,
    slack_api: SlackAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """Ann's workspace T111 and another, TOTHER, installed; Ann used the bot in T111 and proved her address."""
    environment = {
        **OAUTH,
        "DATABASE_URL": pay_settings.database_url,
        "STRIPE_API_KEY": "sk_test_x",
        "STRIPE_API_BASE": pay_settings.stripe_api_base,
        "SLACK_API_URL": slack_api.base_url,
        "BILLING_TIMEZONE": "America/New_York",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    store = installation_store(get_settings(), db.engine)
    for team in ("T111", "TOTHER"):
        token = f"xoxb-{team.lower()}"
        store.save(
            Installation(
                app_id="A1",
                team_id=team,
                bot_token=token,
                bot_id=f"B{team}",
                bot_user_id="UBOT",
                user_id="UINSTALLER",
                installed_at=time.time(),
            )
        )
        slack_api.add_workspace(team, token)
    slack_api.add_user(ANN_ID, ANN.email, "Ann Lee", tz="UTC", team_id="T111")
    PrincipalDirectory(db, FixedClock(datetime(2026, 11, 20, tzinfo=UTC))).record_seen(ANN.principal, ANN.email)
    with db.transaction() as session:  # she proved the address (IDENTITY_VERIFICATION=email_code)
        session.execute(
            update(PrincipalRecord)
            .where(PrincipalRecord.principal == ANN.principal)
            .values(verified_email=ANN.email, verified_at=datetime(2026, 11, 20, tzinfo=UTC))
        )
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("oauth_env")
def test_autopay_run_once_tells_the_payer_in_their_own_workspace(
    pay: Services,
    cards: Setup,
    stripe_api: Stripe,
    slack_api: SlackAPI,
) -> None:
    assert pay.autopay is not None
    pay.autopay.turn_on(ANN, "acme")

    result = CliRunner().invoke(app, ["autopay", "run-once", "--now", "2026-12-01T09:00:00-05:00"])

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "charged 1, declined 0, skipped 0"
    dms = [call for call in slack_api.calls("chat.postMessage") if call.ok]
    assert dms and {call.token for call in dms} == {"xoxb-t111"}
    assert all(answered(call)["channel"] == f"D{ANN_ID}" for call in dms)  # posted to her user id
