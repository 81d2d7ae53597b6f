"""Pre-validation of raw Slack requests: signature over the bytes, shape checks."""

from __future__ import annotations

import json
import time
import urllib.parse

from devtools.loopback.slack_signing import slack_signature, slash_command_body
from handlers.runtime.slack_requests import Malformed, read, verify


def test_a_correct_signature_verifies() -> None:
    body = slash_command_body("")
    now = int(time.time())
    assert verify("s", body, str(now), slack_signature("s", body, now))


def test_signatures_are_checked_over_raw_bytes_even_when_not_utf8() -> None:
    body = b"\xff\xfe"
    now = int(time.time())
    assert verify("s", body, str(now), slack_signature("s", body, now))
    assert not verify("s", body, str(now), slack_signature("t", body, now))


def test_old_future_or_odd_timestamps_fail() -> None:
    body = b"x"
    old = int(time.time()) - 301
    assert not verify("s", body, str(old), slack_signature("s", body, old))
    future = int(time.time()) + 400
    assert not verify("s", body, str(future), slack_signature("s", body, future))
    for stamp in ("", "abc", "١٢٣", "-5", "1e9", None):
        assert not verify("s", body, stamp, "v0=00")
    assert not verify("s", body, str(int(time.time())), None)


def problem(text: str) -> str | None:
    try:
        read(text)
    except Malformed as why:
        return str(why)
    return None


def test_real_shapes_pass() -> None:
    assert problem(slash_command_body("pay").decode()) is None
    assert problem(json.dumps({"type": "url_verification", "challenge": "c"})) is None
    assert problem(json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": "U"}})) is None
    payload = {"type": "block_actions", "user": {"id": "U"}, "actions": [{"action_id": "a", "value": "v"}]}
    assert problem("payload=" + urllib.parse.quote(json.dumps(payload))) is None


def test_broken_shapes_are_named() -> None:
    def form(payload: object) -> str:
        return "payload=" + urllib.parse.quote(json.dumps(payload))

    assert problem(form({"type": "block_actions", "user": {"id": "U"}, "actions": {}})) == "no actions"
    assert problem(form({"type": "block_actions", "user": "U", "actions": []})) == "bad user"
    assert problem(json.dumps({"type": "event_callback", "event": "x"})) == "bad event"
    assert (
        problem(form({"type": "view_submission", "user": {"id": "U"}, "view": {"private_metadata": 5}}))
        == "bad metadata"
    )
    assert problem("command=billing&user_id=U&team_id=T") == "bad command"
    assert problem("a=b&&&c") is not None


def test_the_kind_and_event_id_come_from_the_same_parse_as_the_checks() -> None:
    assert read("command=%2Fbilling&text=support+payload+lost&user_id=U&team_id=T").kind == "command"
    payload = {"type": "block_actions", "user": {"id": "U"}, "actions": [{"action_id": "a"}]}
    assert read("payload=" + urllib.parse.quote(json.dumps(payload))).kind == "block_actions"
    event = read(json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_home_opened"}}))
    assert (event.kind, event.event_id) == ("event", "Ev1")
