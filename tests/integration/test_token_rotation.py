"""Token rotation (issue 28, item 2): a rotating bot token is refreshed before it expires wherever
it is read, once per installation across replicas, and stored encrypted.

Real parts: the database's installation store (tokens encrypted), the Bolt app with our listeners
and authorizer dispatched signed requests, the reminder sweep, and the Slack Web API stand-in that
issues expiring tokens, answers ``token_expired`` after expiry and refuses a refresh token used twice.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation, InstallationStore
from sqlalchemy import create_engine, select, text

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import TokenRefreshRecord
from billing_core.identity.directory import PrincipalDirectory
from bot.settings import Settings
from bot.slack.app import build_bolt_app
from bot.slack.oauth import installation_store
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import app_home_opened_event, event_body
from tests.support.bolt_requests import signed_request
from tests.support.oauth_settings import oauth_settings
from tests.support.services import MakeServices

SECRET = "rotation-secret"
KEY = Fernet.generate_key().decode()
ACCOUNTS = {"accounts": [{
    "id": "acme", "name": "Acme Corp", "currency": "usd", "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}],
    "invoices": [{"number": "INV-1", "issued_on": "2026-11-01", "due_on": "2026-11-25", "amount_due": 125000,
                  "currency": "usd", "status": "open"}],
}]}  # fmt: skip


@pytest.fixture
def settings(database_url: str, slack_api: SlackAPI) -> Settings:
    return oauth_settings(database_url, slack_api.base_url, SECRET, SLACK_TOKEN_ENCRYPTION_KEY=KEY)


def install(settings: Settings, db: Database, api: SlackAPI, *, expires_in: int) -> tuple[str, str]:
    """TACME installed with a rotating token expiring in ``expires_in`` seconds; (token, refresh token)."""
    access, refresh, expires_at = api.issue_rotating_token("TACME", expires_in=expires_in)
    installation_store(settings, db.engine).save(Installation(
        app_id="A111", team_id="TACME", bot_token=access, bot_refresh_token=refresh, bot_token_expires_at=expires_at,
        bot_id="BACME", bot_user_id="UBOT", bot_scopes=["chat:write"], user_id="UINSTALLER", installed_at=time.time(),
    ))  # fmt: skip
    return access, refresh


@pytest.fixture
def services(settings: Settings, make_services: MakeServices) -> Services:
    return make_services(settings=settings, accounts=ACCOUNTS)


def test_an_expired_token_is_refreshed_before_a_listener_answers_and_stored_encrypted(
    settings: Settings,
    services: Services,
    db: Database,
    slack_api: SlackAPI,
) -> None:
    old, refresh = install(settings, db, slack_api, expires_in=1)
    time.sleep(1.1)  # the token has expired: Slack refuses it now
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee", team_id="TACME")
    app = build_bolt_app(services, settings)

    body = event_body(app_home_opened_event(user_id="WANN", channel="DWANN"), team_id="TACME")
    assert app.dispatch(signed_request(SECRET, body)).status == 200

    [published] = slack_api.wait_for("views.publish")
    assert published.ok and published.token not in (None, old)
    assert slack_api.refreshes == 1
    with db.read() as session:
        stored = session.execute(text("SELECT bot_token, bot_refresh_token FROM slack_bots")).all()
        assert session.scalar(select(TokenRefreshRecord.refreshes)) == 1
    for token, refresh_token in stored:  # encrypted at rest, the new pair as well as the old
        assert token.startswith("enc:v1:") and refresh_token.startswith("enc:v1:")
    assert all(published.token not in value and refresh not in value for row in stored for value in row)


def test_a_background_reminder_refreshes_a_token_close_to_expiry(
    settings: Settings,
    services: Services,
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
) -> None:
    old, _ = install(settings, db, slack_api, expires_in=600)  # 10 minutes left: inside the 2-hour margin
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee", tz="UTC", team_id="TACME")
    PrincipalDirectory(db, clock).record_seen("slack:TACME:WANN", "ann@acme.test")
    clock.set(datetime(2026, 11, 25, 15, tzinfo=UTC))

    assert services.reminders.run_sweep().messages == 1

    [dm] = [c for c in slack_api.calls("chat.postMessage") if c.ok]
    assert dm.token != old and slack_api.refreshes == 1


def test_a_token_far_from_expiry_is_used_as_it_is(
    settings: Settings,
    services: Services,
    db: Database,
    slack_api: SlackAPI,
) -> None:
    access, _ = install(settings, db, slack_api, expires_in=43200)

    bot = installation_store(settings, db.engine).find_bot(enterprise_id=None, team_id="TACME")

    assert bot is not None and bot.bot_token == access and slack_api.refreshes == 0
    assert slack_api.calls("oauth.v2.access") == []


def test_replicas_reading_an_expiring_token_at_once_refresh_it_once(
    settings: Settings,
    db: Database,
    slack_api: SlackAPI,
    database_url: str,
) -> None:
    install(settings, db, slack_api, expires_in=60)
    replicas = [installation_store(settings, create_engine(database_url)) for _ in range(6)]
    tokens: list[str | None] = []
    start = threading.Barrier(len(replicas))

    def read(store: InstallationStore) -> None:
        start.wait()
        bot = store.find_bot(enterprise_id=None, team_id="TACME")
        tokens.append(bot.bot_token if bot is not None else None)

    threads = [threading.Thread(target=read, args=(store,)) for store in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert slack_api.refreshes == 1  # the refresh token was exchanged once; a second use is refused
    assert [c for c in slack_api.calls("oauth.v2.access") if not c.ok] == []
    assert len(tokens) == len(replicas) and len(set(tokens)) == 1 and None not in tokens
    for store in replicas:
        store.engine.dispose()


def test_the_stand_in_refuses_a_refresh_token_used_twice(slack_api: SlackAPI) -> None:
    from slack_sdk import WebClient

    _, refresh, _ = slack_api.issue_rotating_token("TACME")
    client = WebClient(base_url=slack_api.base_url)
    first = client.api_call(
        "oauth.v2.access",
        data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "111.222", "client_secret": "shh"},
    )
    assert first["ok"]
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError, match="invalid_refresh_token"):
        client.api_call("oauth.v2.access", data={"grant_type": "refresh_token", "refresh_token": refresh})
