"""Threat 3: replayed and repeated requests. Old Slack requests are refused; Slack's retries of an
event are processed once; a Stripe event id is applied once; every mutating button has one effect
however often (and however concurrently) the same signed request arrives.

The bot is the real HTTP app on uvicorn (tests/e2e harness), localstripe behind it, the Slack
Web API stand-in in front of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from billing_core.db.tables import EscalationRecord, PaymentRecord, ReminderPauseRecord
from devtools.loopback.slack_signing import (
    app_home_opened_event,
    block_actions_payload,
    button_action,
    event_body,
    interaction_body,
    select_input_value,
    signed_headers,
    slash_command_body,
    static_select_action,
    view_submission_payload,
)
from tests.security.conftest import STAFF_CHANNEL
from tests.support.bot_fixtures import World
from tests.support.bot_harness import (
    ANN,
    ANN_ACTOR,
    NEEDS_AUTHENTICATION,
    PETER_ACTOR,
    SECRET,
    WEBHOOK_SECRET,
    wait_for_listeners,
)

COPIES = 5  # concurrent copies of one signed request
REMINDER_DM = {"ts": "1700000000.000100", "text": "Reminder", "blocks": []}


def post_copies(world: World, path: str, body: bytes, headers: dict[str, str], copies: int = COPIES) -> list[int]:
    """Send the very same request ``copies`` times at once, then twice more one after the other."""
    url = f"http://127.0.0.1:{world.bot.port}{path}"

    def send(_: int) -> int:
        return httpx.post(url, content=body, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=copies) as pool:
        statuses = list(pool.map(send, range(copies)))
    statuses += [send(0) for _ in range(2)]
    wait_for_listeners(world.bot)
    return statuses


def audited(world: World, action: str) -> list[Any]:
    return [e for e in world.bot.services.audit.entries() if e.action == action]


def count(world: World, table: Any, *where: Any) -> int:
    with world.bot.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


# -- old requests ------------------------------------------------------------------------------


@pytest.mark.parametrize("age_minutes", [6, 60 * 24])
def test_a_slack_request_older_than_five_minutes_is_refused_and_does_nothing(world: World, age_minutes: int) -> None:
    body = slash_command_body("pay INV-1", user_id=ANN, response_url=world.slack.response_url)
    old = int(time.time()) - age_minutes * 60
    response = world.bot.post(body, signed_headers(SECRET, body, timestamp=old))
    assert response.status_code == 401
    assert world.slack.calls() == []


def test_a_captured_request_replayed_after_five_minutes_is_refused(world: World) -> None:
    """The same bytes and signature that were accepted once are refused once they are stale."""
    body = interaction_body(
        view_submission_payload(
            "pay_modal",
            {"pay_method": {"pay_method_select": select_input_value(world.acme_card)}},
            {"account": "acme", "invoice": "INV-1"},
            user_id=ANN,
            view_id="V_REPLAY",
        )
    )
    captured_at = int(time.time()) - 5 * 60 - 5
    response = world.bot.post(body, signed_headers(SECRET, body, timestamp=captured_at))
    assert response.status_code == 401
    assert world.stripe.intents() == []


def test_a_request_just_inside_the_five_minute_window_is_still_served(world: World) -> None:
    body = slash_command_body("balance", user_id=ANN, response_url=world.slack.response_url)
    response = world.bot.post(body, signed_headers(SECRET, body, timestamp=int(time.time()) - 4 * 60))
    assert response.status_code == 200


# -- Slack retries of events -------------------------------------------------------------------


def test_a_slack_retry_of_an_event_already_handled_is_not_processed_again(world: World) -> None:
    body = event_body(app_home_opened_event(user_id=ANN), event_id="EvRETRY0001")
    first = world.bot.post(body)
    wait_for_listeners(world.bot)
    assert first.status_code == 200
    assert len(world.slack.calls("views.publish")) == 1

    for retry in ("1", "2", "3"):
        headers = {**signed_headers(SECRET, body), "X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert world.bot.post(body, headers).status_code == 200
    wait_for_listeners(world.bot)
    assert len(world.slack.calls("views.publish")) == 1


def test_concurrent_deliveries_of_one_event_are_processed_once(world: World) -> None:
    body = event_body(app_home_opened_event(user_id=ANN), event_id="EvRETRY0002")
    statuses = post_copies(world, "/slack/events", body, signed_headers(SECRET, body))
    assert set(statuses) == {200}
    assert len(world.slack.calls("views.publish")) == 1


def test_a_different_event_of_the_same_kind_is_still_processed(world: World) -> None:
    for event_id in ("EvRETRY0003", "EvRETRY0004"):
        world.bot.post(event_body(app_home_opened_event(user_id=ANN), event_id=event_id))
    wait_for_listeners(world.bot)
    assert len(world.slack.calls("views.publish")) == 2


# -- Stripe event ids --------------------------------------------------------------------------


def stripe_signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={timestamp},v1={mac}", "Content-Type": "application/json"}


def test_a_stripe_event_delivered_many_times_at_once_is_applied_once(world: World) -> None:
    card = world.stripe.card(world.acme_customer, NEEDS_AUTHENTICATION)
    world.bot.services.require_payments().methods.list(ANN_ACTOR, "acme", refresh=True)
    payments = world.bot.services.require_payments().service
    started = payments.start_invoice_payment(ANN_ACTOR, "acme", "INV-2", card)
    waiting = payments.execute(started.id)
    assert waiting.status == "requires_action"
    event = {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": waiting.stripe_payment_intent_id,
                "object": "payment_intent",
                "status": "succeeded",
                "amount": 50050,
                "currency": "usd",
                "metadata": {},
            }
        },
    }
    body, headers = stripe_signed(event)

    statuses = post_copies(world, "/stripe/webhook", body, headers)

    assert all(200 <= s < 300 for s in statuses)
    assert len(audited(world, "payment.succeeded")) == 1
    assert count(world, PaymentRecord, PaymentRecord.status == "succeeded") == 1
    assert world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-2").status == "paid"


# -- every mutating button: one effect ---------------------------------------------------------


@dataclass(frozen=True)
class Button:
    name: str
    prepare: Callable[[World], Any]
    body: Callable[[World, Any], bytes]
    check: Callable[[World, Any], None]


def click(
    world: World,
    action: dict[str, Any],
    *,
    channel: str = "C111",
    message: dict[str, Any] | None = None,
    user: str = ANN,
) -> bytes:
    return interaction_body(
        block_actions_payload(
            action, user_id=user, channel_id=channel, message=message, response_url=world.slack.response_url
        )
    )


def press(world: World, action_id: str, value: dict[str, Any] | str, **kwargs: Any) -> bytes:
    raw = value if isinstance(value, str) else json.dumps(value)
    return click(world, button_action(action_id, raw), **kwargs)


def _pay_body(world: World, _: Any) -> bytes:
    return interaction_body(
        view_submission_payload(
            "pay_modal",
            {"pay_method": {"pay_method_select": select_input_value(world.acme_card)}},
            {"account": "acme", "invoice": "INV-1"},
            user_id=ANN,
            view_id="V_PAY_ONCE",
        )
    )


def _pay_check(world: World, _: Any) -> None:
    assert [(pi["amount"], pi["status"]) for pi in world.stripe.intents()] == [(125000, "succeeded")]
    assert count(world, PaymentRecord) == 1
    assert len(audited(world, "payment.succeeded")) == 1
    assert world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-1").status == "paid"


def _second_card(world: World) -> str:
    card = world.stripe.card(world.acme_customer)
    world.bot.services.require_payments().methods.list(ANN_ACTOR, "acme", refresh=True)
    return card


def _default_check(world: World, card: str) -> None:
    assert world.stripe.default_card(world.acme_customer) == card
    assert world.stripe.card_ids(world.acme_customer) == {card, world.acme_card}


def _remove_check(world: World, card: str) -> None:
    assert world.stripe.card_ids(world.acme_customer) == {world.acme_card}
    assert world.stripe.default_card(world.acme_customer) == world.acme_card
    replies = [c.body for c in world.slack.response_url_posts()]
    assert any(b"the card was removed" in r for r in replies)
    assert not any(b"went wrong" in r for r in replies)


def _snooze_check(world: World, _: Any) -> None:
    assert count(world, ReminderPauseRecord) == 1


def _already_paid_check(world: World, _: Any) -> None:
    assert count(world, EscalationRecord) == 1
    assert len(audited(world, "escalation.create")) == 1
    assert count(world, ReminderPauseRecord) == 1


def _switch_check(world: World, _: Any) -> None:
    assert world.bot.services.accounts.caller(ANN_ACTOR).active.external_id == "globex"
    assert len(audited(world, "account.switch")) <= 1


def _open_escalation(world: World) -> str:
    view = world.bot.services.escalations.create(PETER_ACTOR, "initech", "other", "Please call me.")
    world.slack.add_channel(STAFF_CHANNEL, private=True, members=["W555"])  # W555 is billing staff
    world.slack.clear()
    return view.reference


def _resolve_check(world: World, reference: str) -> None:
    assert world.bot.services.escalations.get(reference).status == "resolved"
    assert len(audited(world, "escalation.resolve")) == 1
    told_peter = [
        c
        for c in world.slack.calls("chat.postMessage")
        if reference in json.dumps(c.json_args) and c.json_args.get("channel") not in (STAFF_CHANNEL,)
    ]
    assert len(told_peter) == 1


BUTTONS = [
    Button("pay confirm", lambda w: None, _pay_body, _pay_check),
    Button(
        "make default",
        _second_card,
        lambda w, card: press(w, "method_make_default", {"account": "acme", "method": card}),
        _default_check,
    ),
    Button(
        "remove card",
        _second_card,
        lambda w, card: press(w, "method_remove", {"account": "acme", "method": card}),
        _remove_check,
    ),
    Button(
        "remind me later",
        lambda w: None,
        lambda w, _: press(w, "reminder_snooze", {"invoices": [["acme", "INV-1"]]}, message=REMINDER_DM),
        _snooze_check,
    ),
    Button(
        "already paid",
        lambda w: None,
        lambda w, _: press(w, "reminder_already_paid", {"account": "acme", "invoice": "INV-1"}, message=REMINDER_DM),
        _already_paid_check,
    ),
    Button(
        "switch account",
        lambda w: None,
        lambda w, _: click(w, static_select_action("switch_account", "globex")),
        _switch_check,
    ),
    Button(
        "mark resolved",
        _open_escalation,
        lambda w, ref: press(w, "support_resolve", ref, channel=STAFF_CHANNEL, message=REMINDER_DM, user="W555"),
        _resolve_check,
    ),
]


@pytest.mark.parametrize("button", BUTTONS, ids=lambda b: b.name)
def test_the_same_click_repeated_and_concurrent_has_one_effect(world: World, button: Button) -> None:
    prepared = button.prepare(world)
    body = button.body(world, prepared)
    statuses = post_copies(world, "/slack/events", body, signed_headers(SECRET, body))
    assert set(statuses) == {200}
    button.check(world, prepared)
