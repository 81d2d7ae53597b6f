"""HTTP semantics: 401 for bad signatures, 400 for malformed, never a 5xx; routes."""

from __future__ import annotations

import json
import time
import urllib.parse

from devtools.loopback.slack_signing import (
    block_actions_body,
    block_actions_payload,
    button_action,
    interaction_body,
    signed_headers,
    slash_command_body,
)
from tests.support.bot_fixtures import World
from tests.support.bot_harness import SECRET


def test_a_bad_signature_is_401_and_nothing_is_done(world: World) -> None:
    body = slash_command_body("pay balance")
    headers = signed_headers("wrong-secret", body)
    assert world.bot.post(body, headers).status_code == 401
    time.sleep(0.2)
    assert world.slack.calls() == []


def test_a_stale_signature_is_401(world: World) -> None:
    body = slash_command_body("")
    headers = signed_headers(SECRET, body, timestamp=int(time.time()) - 301)
    assert world.bot.post(body, headers).status_code == 401


def test_a_non_numeric_timestamp_is_401(world: World) -> None:
    body = slash_command_body("")
    headers = signed_headers(SECRET, body)
    headers["X-Slack-Request-Timestamp"] = "yesterday"
    assert world.bot.post(body, headers).status_code == 401


def test_missing_headers_are_401(world: World) -> None:
    assert world.bot.http.post("/slack/events", content=b"text=").status_code == 401


def test_non_utf8_bytes_are_401_unsigned_and_400_signed(world: World) -> None:
    body = b"payload=\xff\xfe\x00"
    assert world.bot.post(body, {"X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": "1"}).status_code == 401
    assert world.bot.post(body).status_code == 400


def test_signed_but_malformed_payloads_are_400(world: World) -> None:
    bad = [
        b"payload=" + urllib.parse.quote(json.dumps({"type": "block_actions", "actions": {}})).encode(),
        b"payload="
        + urllib.parse.quote(json.dumps({"type": "block_actions", "user": {"id": "W1"}, "actions": {}})).encode(),
        json.dumps({"type": "event_callback", "event": "x"}).encode(),
        b"payload=not-json",
        b"payload=" + urllib.parse.quote("[1,2]").encode(),
        b"{not json",
        b"hello",
        json.dumps({"type": "view_submission", "user": {"id": "W1"}, "view": {"state": []}}).encode(),
        interaction_body({"type": "view_submission", "user": {"id": "W1"}, "view": {"state": {"values": []}}}),
    ]
    for body in bad:
        assert world.bot.post(body).status_code == 400, body


def test_a_signed_payload_with_odd_field_types_never_gets_a_5xx(world: World) -> None:
    odd = block_actions_payload(button_action("pay_open", "x"))
    odd["actions"][0]["value"] = {"account": "acme"}
    assert world.bot.post(block_actions_body(odd)).status_code == 400
    weird = block_actions_payload(button_action("pay_open", "x"))
    weird["team"] = None
    weird["container"] = {"type": "nonsense"}
    assert world.bot.post(block_actions_body(weird)).status_code < 500


def test_url_verification_echoes_the_challenge(world: World) -> None:
    body = json.dumps({"token": "x", "challenge": "abc123", "type": "url_verification"}).encode()
    response = world.bot.post(body)
    assert response.status_code == 200 and response.json() == {"challenge": "abc123"}


def test_other_events_are_acknowledged(world: World) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T111",
            "api_app_id": "A111",
            "event_id": "Ev1",
            "event_time": 1,
            "event": {"type": "member_joined_channel", "user": "W111"},
        }
    ).encode()
    assert world.bot.post(body).status_code == 200


def test_wrong_method_is_405_and_unknown_path_404(world: World) -> None:
    assert world.bot.http.get("/slack/events").status_code == 405
    assert world.bot.http.post("/healthz").status_code == 405
    assert world.bot.http.get("/nope").status_code == 404
    assert world.bot.http.get("/stripe/webhook").status_code == 405


def test_healthz_says_ok_when_the_database_answers(world: World) -> None:
    response = world.bot.http.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_metrics_are_prometheus_text(world: World) -> None:
    world.bot.command("help")
    response = world.bot.http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert "billing_slack_requests_total" in response.text


def test_a_bad_stripe_signature_is_400(world: World) -> None:
    response = world.bot.http.post("/stripe/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert response.status_code == 400
