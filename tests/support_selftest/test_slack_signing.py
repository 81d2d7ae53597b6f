"""Signed requests built by the helpers are what Slack/Stripe send and are accepted."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

import pytest
import stripe
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from devtools.loopback import slack_signing as ss
from devtools.loopback.slack_api import SlackAPI

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_signed_headers_are_accepted_by_the_slack_sdk_verifier() -> None:
    body = ss.slash_command_body("pay INV-42")
    headers = ss.signed_headers(SECRET, body)
    assert SignatureVerifier(SECRET).is_valid_request(body, _lower(headers))
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_stale_or_foreign_signature_is_rejected() -> None:
    body = ss.event_body(ss.app_home_opened_event())
    stale = ss.signed_headers(SECRET, body, timestamp=int(time.time()) - 301)
    assert not SignatureVerifier(SECRET).is_valid_request(body, _lower(stale))
    assert not SignatureVerifier("other").is_valid_request(body, _lower(ss.signed_headers(SECRET, body)))


def test_a_slash_command_body_has_every_field_slack_sends() -> None:
    fields = dict(urllib.parse.parse_qsl(ss.slash_command_body("pay INV-42", response_url="http://x/r").decode()))
    expected = {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert expected <= fields.keys()
    assert fields["text"] == "pay INV-42" and fields["command"] == "/billing"


def test_bolt_routes_every_kind_of_built_request(slack_api: SlackAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    app = App(
        client=WebClient(token="xoxb-test", base_url=slack_api.base_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
    )
    seen: dict[str, object] = {}

    @app.command("/billing")
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        ack()
        seen["command"] = command["text"]

    @app.action("pay")
    def on_button(ack: Ack, action: dict[str, Any]) -> None:
        ack()
        seen["button"] = action["value"]

    @app.action("pick_method")
    def on_select(ack: Ack, action: dict[str, Any]) -> None:
        ack()
        seen["select"] = action["selected_option"]["value"]

    @app.view("pay_modal")
    def on_view(ack: Ack, view: dict[str, Any]) -> None:
        ack(response_action="errors", errors={"amount_block": "Enter a number"})
        seen["view"] = (view["state"]["values"]["amount_block"]["amount"]["value"], view["private_metadata"])

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any]) -> None:
        seen["home"] = event["user"]

    def dispatch(body: bytes) -> tuple[int, str]:
        headers: dict[str, str | Sequence[str]] = {k: [v] for k, v in _lower(ss.signed_headers(SECRET, body)).items()}
        resp = app.dispatch(BoltRequest(body=body.decode(), headers=headers))
        return resp.status, resp.body

    assert dispatch(ss.slash_command_body("pay INV-42"))[0] == 200
    assert dispatch(ss.block_actions_body(ss.block_actions_payload(ss.button_action("pay", "INV-42"))))[0] == 200
    select = ss.static_select_action("pick_method", "pm_1", block_id="methods", text="Visa ••4242")
    assert dispatch(ss.block_actions_body(ss.block_actions_payload(select)))[0] == 200
    status, body = dispatch(
        ss.view_submission_body(
            callback_id="pay_modal",
            values={"amount_block": {"amount": ss.text_input_value("120.00")}},
            private_metadata={"invoice": "INV-42"},
        )
    )
    assert status == 200 and json.loads(body) == {
        "response_action": "errors",
        "errors": {"amount_block": "Enter a number"},
    }
    assert dispatch(ss.event_body(ss.app_home_opened_event("W111")))[0] == 200
    deadline = time.monotonic() + 3
    while len(seen) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == {
        "command": "pay INV-42",
        "button": "INV-42",
        "select": "pm_1",
        "view": ("120.00", '{"invoice": "INV-42"}'),
        "home": "W111",
    }


def test_stripe_signed_headers_are_accepted_by_stripe() -> None:
    payload = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "customer.created",
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    ).encode()
    headers = ss.stripe_signed_headers("whsec_x", payload)
    event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], "whsec_x")
    assert event.type == "customer.created"
    old = ss.stripe_signed_headers("whsec_x", payload, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, old["Stripe-Signature"], "whsec_x", tolerance=300)
