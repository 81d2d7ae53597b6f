"""The reminder DM's buttons, clicked through signed requests into the Bolt app with all listeners."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from slack_bolt import App

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.reminders.service import ReminderService
from billing_core.views import Actor
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from devtools.loopback.slack_signing import block_actions_body, block_actions_payload, button_action
from handlers.kit.ids import PAY_OPEN_ACTION, SUPPORT_OPEN_ACTION
from handlers.reminders.ids import REMINDER_ALREADY_PAID_ACTION, REMINDER_SNOOZE_ACTION
from tests.integration.reminders.conftest import BUTTONS_SECRET, deliveries, utc
from tests.support.bolt_requests import signed_request

SECRET = BUTTONS_SECRET


@pytest.fixture
def app(buttons_app: App) -> App:
    """The Bolt app with Ann (Acme) and Eve (another customer) (tests/integration/reminders/conftest.py)."""
    return buttons_app


def buttons(posted: RecordedCall, action_id: str) -> list[dict[str, Any]]:
    return [
        element
        for block in posted.json_args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]


def click(app: App, api: SlackAPI, action_id: str, value: str, user: str = "UANN") -> Any:
    payload = block_actions_payload(
        button_action(action_id, value),
        user_id=user,
        channel_id="DUANN",
        response_url=api.response_url,
        message={"ts": "1.000001", "text": "reminder"},
    )
    body = block_actions_body(payload)
    return app.dispatch(signed_request(SECRET, body))


def replies(api: SlackAPI, count: int = 1) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        texts = [str(c.json_args.get("text", "")) for c in api.response_url_posts()]
        if len(texts) >= count:
            return texts
        time.sleep(0.02)
    raise AssertionError(f"expected {count} reply(ies), calls: {[c.method for c in api.calls()]}")


def test_the_dm_has_pay_and_already_paid_per_invoice_and_snooze_and_support(dm: RecordedCall) -> None:
    assert [json.loads(b["value"]) for b in buttons(dm, PAY_OPEN_ACTION)] == [
        {"account": "acme", "invoice": "INV-1"},
        {"account": "acme", "invoice": "INV-2"},
    ]
    assert len(buttons(dm, REMINDER_ALREADY_PAID_ACTION)) == 2
    [snooze] = buttons(dm, REMINDER_SNOOZE_ACTION)
    assert json.loads(snooze["value"]) == {"account": "acme", "invoice": "INV-1"}  # the server finds INV-2
    [support] = buttons(dm, SUPPORT_OPEN_ACTION)
    assert json.loads(support["value"])["account"] == "acme"
    assert "$1,250.00" in dm.json_args["text"] and "INV-2" in dm.json_args["text"]


def test_pay_goes_straight_into_the_pay_flow(app: App, dm: RecordedCall, slack_api: SlackAPI) -> None:
    [pay] = buttons(dm, PAY_OPEN_ACTION)[:1]

    assert click(app, slack_api, PAY_OPEN_ACTION, pay["value"]).status == 200
    slack_api.wait_for("views.open")  # the pay flow's modal


def test_remind_me_later_snoozes_for_three_days(
    app: App, dm: RecordedCall, slack_api: SlackAPI, reminders: ReminderService, clock: FixedClock
) -> None:
    [snooze] = buttons(dm, REMINDER_SNOOZE_ACTION)

    assert click(app, slack_api, REMINDER_SNOOZE_ACTION, snooze["value"]).status == 200
    assert "remind you again after 28 Nov 2026" in replies(slack_api)[0]

    clock.set(utc(2026, 11, 30, 12))  # Monday: step 3 has come and the snooze is over
    assert reminders.run_sweep().sent == 2


def test_already_paid_pauses_and_tells_billing_support_with_a_reference(
    app: App, dm: RecordedCall, slack_api: SlackAPI, app_services: Services
) -> None:
    [first, _] = buttons(dm, REMINDER_ALREADY_PAID_ACTION)

    assert click(app, slack_api, REMINDER_ALREADY_PAID_ACTION, first["value"]).status == 200
    [reply] = replies(slack_api)
    assert "ESC-" in reply and "INV-1" in reply and "2 Dec 2026" in reply
    assert [p.reason for p in _pauses(app_services)] == ["already_paid"]


def test_a_forged_button_for_someone_elses_invoice_changes_nothing(
    app: App, dm: RecordedCall, slack_api: SlackAPI, app_services: Services
) -> None:
    forged = json.dumps({"invoices": [["evil", "E-1"]]})

    assert click(app, slack_api, REMINDER_SNOOZE_ACTION, forged).status == 200
    [reply] = replies(slack_api)
    assert "E-1" not in reply
    assert _pauses(app_services) == []
    forged_paid = json.dumps({"account": "evil", "invoice": "E-1"})
    assert click(app, slack_api, REMINDER_ALREADY_PAID_ACTION, forged_paid).status == 200
    replies(slack_api, 2)
    assert _pauses(app_services) == []
    assert app_services.escalations.list_open(Actor(email="eve@evil.test", principal="slack:T111:UEVE")) == []
    assert len(deliveries(app_services.db)) == 2


def _pauses(services: Services) -> list[Any]:
    from sqlalchemy import select

    from billing_core.db.tables import ReminderPauseRecord

    with services.db.read() as session:
        rows = list(session.scalars(select(ReminderPauseRecord)))
        session.expunge_all()
        return rows
