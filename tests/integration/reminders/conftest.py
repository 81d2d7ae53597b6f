"""Reminder fixtures: real database, the Slack Web API stand-in, and an import helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import ReminderDeliveryRecord
from billing_core.reminders.service import ReminderService
from bot.settings import Settings, get_settings
from bot.slack.app import build_bolt_app
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from tests.support.services import MakeServices
from tests.support.slack_calls import answered

Invoice = dict[str, Any]

# The signing secrets of the two Bolt apps below (test_slack_buttons / test_snooze_reference, and
# test_consent / test_polish).
BUTTONS_SECRET = "reminder-test-secret"
CONSENT_SECRET = "consent-test-secret"


def utc(year: int, month: int, day: int, hour: int = 15, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def invoice(
    number: str, due_on: date | str, amount: int = 10000, status: str = "open", currency: str = "usd"
) -> Invoice:
    due = due_on if isinstance(due_on, str) else due_on.isoformat()
    return {
        "number": number,
        "issued_on": "2026-01-01",
        "due_on": due,
        "amount_due": amount,
        "currency": currency,
        "status": status,
    }


def account(
    account_id: str, contacts: list[tuple[str, str]], invoices: list[Invoice], currency: str = "usd"
) -> dict[str, Any]:
    return {
        "id": account_id,
        "name": f"{account_id.title()} Corp",
        "currency": currency,
        "contacts": [{"email": email, "name": name} for email, name in contacts],
        "invoices": invoices,
    }


@pytest.fixture
def env(reminder_settings: Settings, slack_api: SlackAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI's environment: this database, the Slack stand-in, billing days in UTC."""
    monkeypatch.setenv("DATABASE_URL", reminder_settings.database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", slack_api.base_url)
    monkeypatch.setenv("BILLING_TIMEZONE", "UTC")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def reminder_settings(database_url: str, slack_api: SlackAPI) -> Settings:
    return Settings(
        _env_file=None, DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack_api.base_url
    )


@pytest.fixture
def app_services(reminder_settings: Settings, make_services: MakeServices) -> Services:
    return make_services(settings=reminder_settings)


@pytest.fixture
def reminders(app_services: Services) -> ReminderService:
    service: ReminderService = app_services.reminders
    return service


@pytest.fixture
def load(app_services: Services) -> Callable[..., None]:
    """Import accounts (the real importer); importing again updates in place (e.g. status paid)."""

    def _load(*accounts: dict[str, Any]) -> None:
        app_services.importer.run({"accounts": list(accounts)})

    return _load


def dm_texts(api: SlackAPI) -> list[tuple[str, str]]:
    """(channel, fallback text) of every DM that went out: the DM channel Slack posted it in (the
    reminder sender names the person's user id, and Slack answers with their DM's id)."""
    return [(dm_channel(c), str(c.json_args["text"])) for c in api.calls("chat.postMessage") if c.ok]


def dm_channel(call: RecordedCall) -> str:
    """The channel a ``chat.postMessage`` landed in (Slack's answer; the request's when refused)."""
    return str((call.response or {}).get("channel") or call.json_args["channel"])


def deliveries(db: Database) -> list[ReminderDeliveryRecord]:
    with db.read() as session:
        rows = list(session.scalars(select(ReminderDeliveryRecord).order_by(ReminderDeliveryRecord.id)))
        session.expunge_all()
        return rows


@pytest.fixture
def buttons_app(
    app_services: Services,
    reminder_settings: Settings,
    slack_api: SlackAPI,
    clock: FixedClock,
    load: Callable[..., None],
) -> App:
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="Europe/London")
    slack_api.add_user("UEVE", "eve@evil.test", "Eve")
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee")],
            [invoice("INV-1", date(2026, 11, 25), 125000), invoice("INV-2", date(2026, 11, 25), 4000)],
        ),
        account("evil", [("eve@evil.test", "Eve")], [invoice("E-1", date(2026, 11, 25))]),
    )
    clock.set(utc(2026, 11, 25, 12))
    settings = reminder_settings.model_copy(update={"slack_signing_secret": SecretStr(BUTTONS_SECRET)})
    client = WebClient(token="xoxb-test", base_url=slack_api.base_url)
    return build_bolt_app(app_services, settings, client=client, verify_token=False)


@pytest.fixture
def dm(buttons_app: App, reminders: ReminderService, slack_api: SlackAPI) -> RecordedCall:
    reminders.run_sweep()
    posted = slack_api.last("chat.postMessage")
    assert posted.json_args["channel"] == "DUANN" or answered(posted)["channel"] == "DUANN"
    slack_api.clear()
    return posted


@pytest.fixture
def consent_app(
    app_services: Services,
    reminder_settings: Settings,
    slack_api: SlackAPI,
    clock: FixedClock,
    load: Callable[..., None],
) -> App:
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="Europe/London")
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee")],
            [invoice("INV-1", date(2026, 11, 25), 125000), invoice("INV-2", date(2026, 11, 25), 4000)],
        )
    )
    clock.set(utc(2026, 11, 25, 12))
    settings = reminder_settings.model_copy(update={"slack_signing_secret": SecretStr(CONSENT_SECRET)})
    client = WebClient(token="xoxb-test", base_url=slack_api.base_url)
    return build_bolt_app(app_services, settings, client=client, verify_token=False)


@pytest.fixture
def first_dm(consent_app: App, reminders: ReminderService, slack_api: SlackAPI) -> RecordedCall:
    assert reminders.run_sweep().messages == 1
    posted = slack_api.last("chat.postMessage")
    slack_api.clear()
    return posted
