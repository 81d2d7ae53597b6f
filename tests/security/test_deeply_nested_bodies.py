"""Issue 19, item 18: a signed body nested thousands deep is a malformed request (400), never a 500.

``json`` gives up on nesting deeper than the interpreter's recursion limit with a ``RecursionError``,
not the ``ValueError`` of other bad JSON."""

from __future__ import annotations

import json
import urllib.parse

from devtools.loopback.slack_signing import stripe_signature_header
from tests.support.bot_fixtures import World
from tests.support.bot_harness import WEBHOOK_SECRET

DEPTH = 5_000


def nested(depth: int = DEPTH) -> str:
    return "[" * depth + "]" * depth


def test_a_signed_events_api_body_nested_5000_deep_is_400(world: World) -> None:
    body = ('{"type": "event_callback", "event": ' + nested() + "}").encode()
    assert world.bot.post(body).status_code == 400


def test_a_signed_interaction_payload_nested_5000_deep_is_400(world: World) -> None:
    payload = '{"type": "block_actions", "actions": ' + nested() + "}"
    assert world.bot.post(b"payload=" + urllib.parse.quote(payload).encode()).status_code == 400


def test_a_signed_stripe_event_nested_5000_deep_is_400_and_a_normal_one_still_passes(world: World) -> None:
    for body, expected in (
        (('{"id": "evt_deep", "data": ' + nested() + "}").encode(), 400),
        (json.dumps({"id": "evt_1", "type": "ping", "data": {"object": {}}}).encode(), 200),
    ):
        headers = {"Stripe-Signature": stripe_signature_header(WEBHOOK_SECRET, body)}
        assert world.bot.http.post("/stripe/webhook", content=body, headers=headers).status_code == expected
