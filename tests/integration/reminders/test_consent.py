"""Consent (issue 28, item 5): the first reminder DM introduces the bot with "Not me" and "Stop
reminders"; the Home shows and reverses the choice; reminders respect it; receipts still go out.

Real parts: the database, the reminder sweep, the Bolt app with every listener, clicked through
signed requests, and the Slack Web API stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.tables import AuditEventRecord, EscalationRecord
from billing_core.identity.directory import PrincipalDirectory
from billing_core.notifications import PaymentSettled
from billing_core.reminders.messages import ReminderLine, ReminderMessage
from billing_core.reminders.service import ReminderService
from bot.slack.notifier import SlackNotifier
from bot.slack.operator import InlineExecutor
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from devtools.loopback.slack_signing import (
    app_home_opened_event,
    block_actions_body,
    block_actions_payload,
    button_action,
    event_body,
)
from handlers.kit.ids import PAY_OPEN_ACTION
from handlers.reminders.blocks import reminder_blocks, withheld_blocks
from handlers.reminders.ids import (
    REMINDER_NOT_ME_ACTION,
    REMINDER_STOP_ACTION,
    REMINDERS_OFF_ACTION,
    REMINDERS_ON_ACTION,
)
from tests.integration.reminders.conftest import CONSENT_SECRET, account, invoice, utc
from tests.integration.test_durable_notices import payment
from tests.support.block_limits import message_problems
from tests.support.bolt_requests import signed_request
from tests.support.slack_calls import answered

SECRET = CONSENT_SECRET


@pytest.fixture
def app(consent_app: App) -> App:
    """The Bolt app with Ann (Acme) only (tests/integration/reminders/conftest.py)."""
    return consent_app


def action_ids(posted: RecordedCall) -> list[str]:
    return [
        element["action_id"]
        for block in posted.json_args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def shown(posted: RecordedCall) -> str:
    return json.dumps(posted.json_args["blocks"])


def click_in_dm(app: App, api: SlackAPI, posted: RecordedCall, action_id: str, *, channel: str | None = None) -> Any:
    ts = str(answered(posted)["ts"])
    payload = block_actions_payload(
        button_action(action_id, ""),
        user_id="UANN",
        channel_id=channel or str(answered(posted)["channel"]),
        response_url=api.response_url,
        message={"ts": ts, "text": "reminder"},
    )
    body = block_actions_body(payload)
    return app.dispatch(signed_request(SECRET, body))


def click_on_home(app: App, action_id: str, value: str) -> Any:
    payload = block_actions_payload(
        button_action(action_id, value), user_id="UANN", view={"id": "VHOME", "type": "home"}
    )
    body = block_actions_body(payload)
    return app.dispatch(signed_request(SECRET, body))


def open_home(app: App, api: SlackAPI) -> dict[str, Any]:
    before = len(api.calls("views.publish"))
    body = event_body(app_home_opened_event(user_id="UANN", channel="DUANN"))
    assert app.dispatch(signed_request(SECRET, body)).status == 200
    view: dict[str, Any] = api.wait_for("views.publish", before + 1)[-1].json_args["view"]
    return view


def reply(api: SlackAPI) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        posts = api.response_url_posts()
        if posts:
            return str(posts[-1].json_args.get("text", ""))
        time.sleep(0.02)
    raise AssertionError(f"no reply; calls: {[c.method for c in api.calls()]}")


def audit_actions(services: Services) -> list[str]:
    with services.db.read() as session:
        return list(session.scalars(select(AuditEventRecord.action).order_by(AuditEventRecord.id)))


def test_the_first_dm_introduces_the_bot_and_offers_not_me_and_stop_reminders(first_dm: RecordedCall) -> None:
    assert "billing assistant" in shown(first_dm) and "billing contact of Acme Corp" in shown(first_dm)
    ids = action_ids(first_dm)
    assert REMINDER_NOT_ME_ACTION in ids and REMINDER_STOP_ACTION in ids and PAY_OPEN_ACTION in ids
    assert message_problems(first_dm.json_args["blocks"], first_dm.json_args["text"]) == []


def test_the_next_reminder_does_not_introduce_the_bot_again(
    first_dm: RecordedCall, reminders: ReminderService, slack_api: SlackAPI, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 30, 12))  # step 3: the next reminder

    assert reminders.run_sweep().messages == 1
    later = slack_api.last("chat.postMessage")
    assert REMINDER_STOP_ACTION not in action_ids(later) and "billing assistant" not in shown(later)


def test_someone_who_already_used_the_app_gets_no_introduction(
    app: App, app_services: Services, reminders: ReminderService, slack_api: SlackAPI, clock: FixedClock
) -> None:
    PrincipalDirectory(app_services.db, clock).record_seen("slack:T111:UANN", "ann@acme.test")

    reminders.run_sweep()

    assert REMINDER_STOP_ACTION not in action_ids(slack_api.last("chat.postMessage"))


def test_stop_reminders_in_the_dm_stops_them_and_is_audited(
    app: App,
    first_dm: RecordedCall,
    reminders: ReminderService,
    slack_api: SlackAPI,
    clock: FixedClock,
    app_services: Services,
) -> None:
    assert click_in_dm(app, slack_api, first_dm, REMINDER_STOP_ACTION).status == 200
    assert "no more reminders about Acme Corp" in reply(slack_api)

    clock.set(utc(2026, 11, 30, 12))
    assert reminders.run_sweep().messages == 0
    assert slack_api.calls("chat.postMessage") == []
    assert "reminders.stopped" in audit_actions(app_services)


def test_not_me_stops_the_dms_and_tells_billing_staff(
    app: App,
    first_dm: RecordedCall,
    reminders: ReminderService,
    slack_api: SlackAPI,
    clock: FixedClock,
    app_services: Services,
) -> None:
    assert click_in_dm(app, slack_api, first_dm, REMINDER_NOT_ME_ACTION).status == 200
    answer = reply(slack_api)

    assert "ESC-" in answer and "won't message you" in answer
    with app_services.db.read() as session:
        [escalation] = session.scalars(select(EscalationRecord)).all()
        assert "not the billing contact" in escalation.message and "UANN" in escalation.message
    clock.set(utc(2026, 11, 30, 12))
    assert reminders.run_sweep().messages == 0
    assert "reminders.not_me" in audit_actions(app_services)


def test_a_consent_click_outside_a_reminder_dm_changes_nothing(
    app: App,
    first_dm: RecordedCall,
    reminders: ReminderService,
    slack_api: SlackAPI,
    clock: FixedClock,
    app_services: Services,
) -> None:
    assert click_in_dm(app, slack_api, first_dm, REMINDER_STOP_ACTION, channel="C0GENERAL").status == 200
    assert "out of date" in reply(slack_api)

    clock.set(utc(2026, 11, 30, 12))
    assert reminders.run_sweep().messages == 1
    assert "reminders.stopped" not in audit_actions(app_services)


def test_the_home_shows_reminders_off_and_turns_them_back_on(
    app: App,
    first_dm: RecordedCall,
    reminders: ReminderService,
    slack_api: SlackAPI,
    clock: FixedClock,
    app_services: Services,
) -> None:
    click_in_dm(app, slack_api, first_dm, REMINDER_STOP_ACTION)
    reply(slack_api)

    home = open_home(app, slack_api)
    [switch] = [
        b["accessory"] for b in home["blocks"] if b.get("accessory", {}).get("action_id") == REMINDERS_ON_ACTION
    ]
    assert "Reminders:* off" in json.dumps(home["blocks"])

    assert click_on_home(app, REMINDERS_ON_ACTION, switch["value"]).status == 200
    republished = slack_api.wait_for("views.publish", 2)[-1].json_args["view"]
    assert REMINDERS_OFF_ACTION in json.dumps(republished["blocks"]) and "Reminders:* on" in json.dumps(republished)
    clock.set(utc(2026, 11, 30, 12))
    assert reminders.run_sweep().messages == 1
    assert "reminders.resumed" in audit_actions(app_services)


def test_a_forged_home_switch_for_someone_elses_account_changes_nothing(
    app: App, first_dm: RecordedCall, slack_api: SlackAPI, app_services: Services, load: Callable[..., None]
) -> None:
    load(account("evil", [("eve@evil.test", "Eve")], [invoice("E-1", date(2026, 11, 25))]))

    assert click_on_home(app, REMINDERS_OFF_ACTION, json.dumps({"account": "evil"})).status == 200

    slack_api.wait_for("views.open")  # the refusal, in a modal from the Home
    assert "reminders.stopped" not in audit_actions(app_services)


def test_a_payment_receipt_still_reaches_someone_who_stopped_reminders(
    app: App, first_dm: RecordedCall, slack_api: SlackAPI
) -> None:
    click_in_dm(app, slack_api, first_dm, REMINDER_STOP_ACTION)
    reply(slack_api)
    client = WebClient(token="xoxb-test", base_url=slack_api.base_url)
    notifier = SlackNotifier(lambda _workspace: client, executor=InlineExecutor())

    notifier.tell_principal("slack:T111:UANN", PaymentSettled("Acme Corp", payment()))

    [receipt] = slack_api.calls("chat.postMessage")
    assert receipt.json_args["channel"] in ("UANN", "DUANN")


@pytest.mark.parametrize("withheld", [False, True])
def test_the_introduction_keeps_within_slacks_limits_with_extreme_names(withheld: bool) -> None:
    from billing_core.money import Money

    lines = tuple(
        ReminderLine(
            f"acct-{i}", "<!channel> *" + "Ü" * 250 + f" {i}", f"INV-{i}", Money(123456789, "usd"), date(2026, 11, 25)
        )
        for i in range(20)
    )
    message = ReminderMessage(0, "x", lines, withheld=withheld, today=date(2026, 11, 25), introduce=True)
    blocks = withheld_blocks(message) if withheld else reminder_blocks(message)

    assert message_problems(blocks, "text") == []
    assert "<!channel>" not in json.dumps(blocks)
    if withheld:
        assert "acct-" not in json.dumps(blocks) and "Ü" not in json.dumps(blocks)  # no account named
