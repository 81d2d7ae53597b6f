"""Marketplace polish (issue 28, item 8) seen through signed requests: Pay buttons a screen reader
tells apart, and a Home published with the hash of the view the person has open."""

from __future__ import annotations

import pytest
from slack_bolt import App

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.identity.directory import PrincipalDirectory
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from devtools.loopback.slack_signing import app_home_opened_event, event_body
from handlers.kit.ids import PAY_OPEN_ACTION
from tests.integration.reminders.conftest import CONSENT_SECRET as SECRET
from tests.support.bolt_requests import signed_request


@pytest.fixture
def app(consent_app: App) -> App:
    """The Bolt app with Ann (Acme) only (tests/integration/reminders/conftest.py)."""
    return consent_app


def test_each_pay_button_in_a_reminder_says_which_invoice_and_amount(first_dm: RecordedCall) -> None:
    labels = [
        element.get("accessibility_label")
        for block in first_dm.json_args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == PAY_OPEN_ACTION
    ]

    assert labels == ["Pay INV-1, $1,250.00", "Pay INV-2, $40.00"]


def open_home_with(app: App, view_hash: str | None) -> None:
    view = {"id": "VHOME", "type": "home", "hash": view_hash} if view_hash else None
    body = event_body(app_home_opened_event(user_id="UANN", channel="DUANN", view=view))
    assert app.dispatch(signed_request(SECRET, body)).status == 200


def test_opening_the_home_publishes_with_the_hash_of_the_open_view(
    app: App, slack_api: SlackAPI, app_services: Services, clock: FixedClock
) -> None:
    PrincipalDirectory(app_services.db, clock).record_seen("slack:T111:UANN", "ann@acme.test")

    open_home_with(app, "1700000000.abcd")

    [published] = slack_api.wait_for("views.publish")
    assert published.args["hash"] == "1700000000.abcd"
    assert "Billing · Acme Corp" in str(published.json_args["view"])


def test_a_publish_that_lost_the_race_keeps_the_newer_home_and_tells_nobody(app: App, slack_api: SlackAPI) -> None:
    slack_api.fail_next("views.publish", status=200, error="hash_conflict")

    open_home_with(app, "1700000000.stale")

    [refused] = slack_api.wait_for("views.publish")
    assert not refused.ok
    assert slack_api.calls("chat.postMessage") == [] and slack_api.calls("chat.postEphemeral") == []
