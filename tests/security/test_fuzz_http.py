"""Threat 4: hostile input at the HTTP edge. Hypothesis feeds the real Starlette app (the one
``billing-bot serve`` runs, in-process through Starlette's TestClient, with the real Bolt app,
database, localstripe and Slack stand-in behind it) slash-command text, mutated action and view
payloads, Events API bodies, Stripe webhook bodies, raw bytes and bad headers, signed and unsigned.

Never a 5xx, never a stack trace in a response, and never a state change: row counts of every
table (the audit trail aside, where refused forgeries are supposed to land) and Stripe's
PaymentIntents are the same after each example. Fixed seed (``derandomize``), bounded examples.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from billing_core.db.base import Base
from bot.web.http import create_http_app
from devtools.loopback.slack_signing import (
    app_home_opened_event,
    block_actions_payload,
    button_action,
    event_body,
    signed_headers,
    slash_command_body,
    static_select_action,
    stripe_signed_headers,
    view_submission_payload,
)
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, SECRET, WEBHOOK_SECRET, BotServer, wait_for_listeners

FUZZ = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
AUDIT_TABLE = "billing_audit_event"
UNSET_URL = "https://hooks.slack.test/set-by-the-test"
LEAKS = ("Traceback", 'File "/', "sqlalchemy", "Exception", "Error:")


@pytest.fixture(scope="module")
def http(server: BotServer) -> Iterator[TestClient]:
    app = create_http_app(server.services, server.settings, server.runtime.app)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


# Written on any delivery, changing nothing a person sees: the audit trail, "this Slack event was
# taken in" marks (a retry reaching another process), where people were last seen (``billing_principal``:
# bot.slack.seen_people writes everyone seen in one batch every 30 s, so a batch from an earlier
# example can land during any request).
BOOKKEEPING = frozenset({AUDIT_TABLE, "billing_once_mark", "billing_principal"})


def row_counts(world: World) -> dict[str, int]:
    with world.bot.db.read() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


def intents(world: World) -> list[tuple[str, str]]:
    return sorted((pi["id"], pi["status"]) for pi in world.stripe.intents())


class Unchanged:
    """Snapshot before; after the request (and its lazy listeners), the same counts and charges."""

    def __init__(self, world: World, ignore: frozenset[str] = frozenset()) -> None:
        self.world = world
        self.ignore = ignore
        self.counts = self._counts()
        self.intents = intents(world)

    def _counts(self) -> dict[str, int]:
        return {name: n for name, n in row_counts(self.world).items() if name not in self.ignore}

    def check(self) -> None:
        wait_for_listeners(self.world.bot)
        assert self._counts() == self.counts
        assert intents(self.world) == self.intents


def assert_safe(response: Any) -> None:
    assert response.status_code < 500, response.text
    for leak in LEAKS:
        assert leak not in response.text, response.text


def slack_post(http: TestClient, body: bytes, *, signed: bool = True, headers: dict[str, str] | None = None) -> Any:
    sent = dict(headers or {})
    if signed:
        sent.update(signed_headers(SECRET, body))
    return http.post("/slack/events", content=body, headers=sent)


# -- strategies --------------------------------------------------------------------------------

# JSON-ish leaves and trees, with the odd shapes Bolt and our checks must survive.
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        ["acme", "initech", "INV-1", "I-1", "pm_x", "ESC-000001", "", " ", "\u0000", "../../etc", "'; DROP TABLE x;--"]
    ),
)
json_value = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)

# Slash-command text that is not a mutating command (``support <message>`` creates a request and
# ``switch`` remembers a choice: valid input whose effects are tested elsewhere).
command_text = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda verb, rest: f"{verb} {rest}",
        st.sampled_from(["pay", "balance", "invoices", "methods", "history", "accounts", "help", "PAY", "pay  "]),
        st.text(max_size=60),
    ),
    st.sampled_from(["pay 4242424242424242", "pay -1", "pay 1e9", "pay INV-1 INV-2", "pay I-1", "history 99999999"]),
).filter(lambda t: not t.strip().lower().startswith(("support", "switch")))

READ_ONLY_ACTIONS = [
    "pay_open",
    "show_overview",
    "show_invoices",
    "show_methods",
    "show_history",
    "show_accounts",
    "support_open",
    "add_card",
    "zz_unknown",
    "link_x",
    "verify_resend_code",
    "method_make_default",
    "method_remove",
    "reminder_snooze",
    "reminder_already_paid",
    "switch_account",
    "support_resolve",
]


def _forged_value() -> st.SearchStrategy[str]:
    """Button values: JSON objects naming other accounts, garbage, or any JSON at all."""
    forged = st.fixed_dictionaries(
        {},
        optional={
            "account": st.sampled_from(["initech", "nope", "", "ACME", "acme "]) | st.text(max_size=10),
            "invoice": st.sampled_from(["I-1", "INV-9", ""]) | st.text(max_size=10),
            "method": st.sampled_from(["pm_nope", ""]) | st.text(max_size=10),
            "balance": st.sampled_from([True, False, "true", 1]),
            "page": st.integers(-5, 10**12) | st.text(max_size=5),
            "invoices": st.lists(st.lists(st.text(max_size=8), max_size=3), max_size=3),
        },
    )
    return st.one_of(forged.map(json.dumps), json_value.map(json.dumps), st.text(max_size=60))


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A valid payload with a few fields replaced by arbitrary JSON, deleted, or added."""
    payload: dict[str, Any] = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(payload))) if _paths(payload) else []
        if not path:
            break
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        op = draw(st.sampled_from(["replace", "delete", "add"]))
        last = path[-1]
        if op == "replace":
            parent[last] = draw(json_value)
        elif op == "delete" and isinstance(parent, dict):
            parent.pop(last, None)
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(json_value)
    return payload


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[list[Any]]:
    out: list[list[Any]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        out.append([*prefix, key])
        if len(prefix) < 4:
            out.extend(_paths(child, (*prefix, key)))
    return out


@st.composite
def action_payloads(draw: st.DrawFn) -> dict[str, Any]:
    action_id = draw(st.sampled_from(READ_ONLY_ACTIONS))
    if action_id == "switch_account":
        action = static_select_action(action_id, draw(st.sampled_from(["initech", "nope", ""]) | st.text(max_size=8)))
    else:
        action = button_action(action_id, draw(_forged_value()))
    where = draw(st.sampled_from(["message", "modal", "home"]))
    view = {"id": "V_FUZZ", "type": "modal" if where == "modal" else "home", "callback_id": "screen_modal"}
    base = block_actions_payload(action, user_id=ANN, view=None if where == "message" else view, response_url=UNSET_URL)
    return draw(mutated(base)) if draw(st.booleans()) else base


@st.composite
def view_payloads(draw: st.DrawFn) -> dict[str, Any]:
    callback = draw(st.sampled_from(["pay_modal", "support_modal", "verify_code_modal", "add_card_modal", "zz"]))
    metadata = draw(
        st.one_of(
            st.sampled_from(
                [
                    {"account": "initech", "invoice": "I-1"},
                    {"account": "acme", "invoice": "I-1"},
                    {"account": "initech", "balance": True, "expected": 7000},
                    {"account": "nope"},
                ]
            ).map(json.dumps),
            json_value.map(json.dumps),
            st.text(max_size=40),
        )
    )
    values = draw(
        st.dictionaries(
            st.sampled_from(["pay_method", "support_topic", "support_message", "verify_code", "support_invoice"]),
            st.dictionaries(
                st.text(max_size=20),
                st.dictionaries(st.sampled_from(["type", "value", "selected_option"]), json_value, max_size=3),
                max_size=2,
            ),
            max_size=3,
        )
    )
    base = view_submission_payload(callback, values, metadata, user_id=ANN, view_id="V_FUZZ")
    return draw(mutated(base)) if draw(st.booleans()) else base


def form(payload: dict[str, Any]) -> bytes:
    return ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()


# -- the tests ---------------------------------------------------------------------------------


@FUZZ
@given(text=command_text, user=st.sampled_from([ANN, "W999", "W998", "", "U<script>"]))
def test_fuzzed_slash_command_text_never_crashes_or_changes_state(
    world: World, http: TestClient, text: str, user: str
) -> None:
    unchanged = Unchanged(world)
    body = slash_command_body(text, user_id=user, response_url=world.slack.response_url)
    response = slack_post(http, body)
    assert_safe(response)
    unchanged.check()


@FUZZ
@given(payload=action_payloads())
def test_fuzzed_action_payloads_never_crash_or_change_state(
    world: World, http: TestClient, payload: dict[str, Any]
) -> None:
    unchanged = Unchanged(world)
    if payload.get("response_url") == UNSET_URL:
        payload["response_url"] = world.slack.response_url
    assert_safe(slack_post(http, form(payload)))
    unchanged.check()


@FUZZ
@given(payload=view_payloads())
def test_fuzzed_view_submissions_never_crash_or_change_state(
    world: World, http: TestClient, payload: dict[str, Any]
) -> None:
    unchanged = Unchanged(world)
    assert_safe(slack_post(http, form(payload)))
    unchanged.check()


@FUZZ
@given(
    event=st.one_of(
        st.builds(lambda u: app_home_opened_event(user_id=u), st.sampled_from([ANN, "W999"])),
        st.dictionaries(st.sampled_from(["type", "user", "channel", "tab", "view", "text"]), json_value, max_size=5),
    ),
    mutate=st.booleans(),
    data=st.data(),
)
def test_fuzzed_events_api_bodies_never_crash_or_change_state(
    world: World, http: TestClient, event: dict[str, Any], mutate: bool, data: st.DataObject
) -> None:
    unchanged = Unchanged(world)  # the event-id marks are bookkeeping (BOOKKEEPING above)
    envelope = json.loads(event_body(event))
    if mutate:
        envelope = data.draw(mutated(envelope))
    assert_safe(slack_post(http, json.dumps(envelope).encode()))
    unchanged.check()


def test_an_event_whose_authorizations_hold_null_is_refused_and_changes_nothing(world: World, http: TestClient) -> None:
    # Found by the fuzzer above: Bolt itself crashed reading such a body (a 500 before the fix).
    unchanged = Unchanged(world)
    envelope = json.loads(event_body(app_home_opened_event(user_id="W111")))
    envelope["authorizations"] = [None]
    response = slack_post(http, json.dumps(envelope).encode())
    assert response.status_code == 400
    assert_safe(response)
    unchanged.check()


@FUZZ
@given(
    body=st.one_of(
        st.builds(
            lambda n, kind, obj: json.dumps(
                {"id": f"evt_fuzz_{n}", "object": "event", "type": kind, "data": {"object": obj}}
            ).encode(),
            st.integers(0, 10**6),
            st.sampled_from(
                [
                    "payment_intent.succeeded",
                    "payment_intent.payment_failed",
                    "checkout.session.completed",
                    "payment_method.detached",
                    "customer.updated",
                    "charge.refunded",
                    "x",
                ]
            ),
            json_value,
        ),
        json_value.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
    ),
    signed=st.booleans(),
    stale=st.booleans(),
)
def test_fuzzed_stripe_webhooks_never_crash_or_change_state(
    world: World, http: TestClient, body: bytes, signed: bool, stale: bool
) -> None:
    # A well-signed event is authentic: its id goes into the ledger of seen events (so a replay is
    # applied once), and nothing else may change.
    unchanged = Unchanged(world, frozenset({"billing_stripe_event"}) if signed and not stale else frozenset())
    headers = stripe_signed_headers(WEBHOOK_SECRET, body, int(time.time()) - (600 if stale else 0)) if signed else {}
    response = http.post("/stripe/webhook", content=body, headers=headers)
    assert_safe(response)
    if not signed or stale:
        assert response.status_code == 400
    unchanged.check()


header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@FUZZ
@given(
    body=st.binary(max_size=300),
    sign=st.sampled_from(["yes", "no", "garbage"]),
    timestamp=st.one_of(header_text, st.integers(-(10**12), 10**13).map(str)),
    signature=header_text,
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
    retry=st.one_of(st.none(), header_text),
)
def test_raw_bytes_and_bad_headers_are_refused_politely(
    world: World,
    http: TestClient,
    body: bytes,
    sign: str,
    timestamp: str,
    signature: str,
    content_type: str,
    retry: str | None,
) -> None:
    unchanged = Unchanged(world)
    headers: dict[str, str] = {"Content-Type": content_type} if content_type else {}
    if sign == "yes":
        headers.update(signed_headers(SECRET, body, content_type=content_type or None))
    elif sign == "garbage":
        headers.update({"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature})
    if retry is not None:
        headers["X-Slack-Retry-Num"] = retry
    response = http.post("/slack/events", content=body, headers=headers)
    assert_safe(response)
    if sign != "yes":
        assert response.status_code == 401
    unchanged.check()


def test_non_utf8_and_odd_methods_on_every_route_are_never_a_5xx(world: World, http: TestClient) -> None:
    for path in ("/slack/events", "/stripe/webhook", "/healthz", "/metrics", "/nope"):
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            response = http.request(method, path, content=b"\xff\xfe\x00garbage")
            assert_safe(response)
