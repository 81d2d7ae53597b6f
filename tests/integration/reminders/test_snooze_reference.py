""" "Remind me later" carries a short reference; the server finds the DM's invoices (issue 16).

The button used to carry every [account id, invoice number] pair of the DM: with the import's
128-character ids that passed Slack's 2,000-character value limit and the DM was refused. Now it
names one invoice of the DM; the server reads the DM's other invoices from its delivery rows (the
message clicked is in Slack's signed request) and re-checks each against the clicker's accounts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from slack_bolt import App, BoltRequest

from billing_core.container import Services
from billing_core.reminders.service import ReminderService
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from devtools.loopback.slack_signing import block_actions_body, block_actions_payload, button_action, signed_headers
from handlers.reminders.ids import REMINDER_SNOOZE_ACTION
from tests.integration.reminders.conftest import BUTTONS_SECRET
from tests.integration.reminders.test_slack_buttons import _pauses, buttons, replies

SECRET = BUTTONS_SECRET


@pytest.fixture
def app(buttons_app: App) -> App:
    """The Bolt app with Ann (Acme) and Eve (another customer) (tests/integration/reminders/conftest.py)."""
    return buttons_app


def click_in(bolt: App, api: SlackAPI, posted: RecordedCall, value: str, user: str = "UANN") -> Any:
    """A click on a button of the DM ``posted``, as Slack sends it (the DM's channel and ts)."""
    assert posted.response is not None
    channel, ts = str(posted.response["channel"]), str(posted.response["ts"])
    payload = block_actions_payload(
        button_action(REMINDER_SNOOZE_ACTION, value),
        user_id=user,
        channel_id=channel,
        response_url=api.response_url,
        message={"ts": ts, "text": "reminder"},
    )
    body = block_actions_body(payload)
    headers: dict[str, str | Sequence[str]] = {**signed_headers(SECRET, body)}
    return bolt.dispatch(BoltRequest(body=body.decode(), headers=headers))


def test_remind_me_later_names_one_invoice_and_snoozes_every_invoice_of_the_dm(
    app: App, dm: RecordedCall, slack_api: SlackAPI, app_services: Services
) -> None:
    [snooze] = buttons(dm, REMINDER_SNOOZE_ACTION)
    assert json.loads(snooze["value"]) == {"account": "acme", "invoice": "INV-1"}

    assert click_in(app, slack_api, dm, snooze["value"]).status == 200
    assert "remind you again after 28 Nov 2026" in replies(slack_api)[0]
    assert sorted(p.reason for p in _pauses(app_services)) == ["snooze", "snooze"]


def test_remind_me_later_from_another_persons_dm_snoozes_nothing(
    app: App, dm: RecordedCall, slack_api: SlackAPI, app_services: Services, reminders: ReminderService
) -> None:
    [snooze] = buttons(dm, REMINDER_SNOOZE_ACTION)

    assert click_in(app, slack_api, dm, snooze["value"], user="UEVE").status == 200
    replies(slack_api)
    assert _pauses(app_services) == []
