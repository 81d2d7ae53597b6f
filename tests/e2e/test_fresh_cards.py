"""Cards added or removed in Stripe outside the bot, with no webhook, show when a person asks
(signed HTTP into the running bot, cards attached and detached directly in localstripe)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient

from devtools.loopback.slack_signing import stripe_signed_headers
from tests.support.bot_fixtures import World
from tests.support.bot_harness import WEBHOOK_SECRET, wait_for_listeners, wait_until

MASTERCARD = "5555555555554444"


@pytest.fixture
def later(world: World) -> Iterator[Any]:
    """Moves the bot's clock on; put back afterwards (the server is shared by the module)."""
    start = world.bot.clock.now()
    yield lambda seconds: world.bot.clock.set(start + timedelta(seconds=seconds))
    world.bot.clock.set(start)


def _methods(world: World) -> str:
    """What ``/billing methods`` shows once its background check with Stripe is done: the reply
    from the copy, or the correction that replaced it."""
    _response, url = world.bot.command("methods")
    world.bot.replies(url)
    wait_for_listeners(world.bot)  # the check with Stripe, and the correction if there is one
    return json.dumps(world.bot.replies(url)[-1], ensure_ascii=False)


def _picker(world: World) -> str:
    world.slack.clear()  # the modal of this press, not an earlier one
    world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
    view = world.bot.last_view(where=lambda v: v.get("callback_id") == "pay_modal")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "pay_method")
    return json.dumps(picker, ensure_ascii=False)


def test_a_card_attached_in_stripe_without_a_webhook_is_listed_by_billing_methods(world: World) -> None:
    assert "4444" not in _methods(world)  # the bot has seen the cards once
    world.stripe.card(world.acme_customer, MASTERCARD)  # straight to Stripe: the bot is not told
    assert "•••• 4444" in _methods(world)


def test_a_card_detached_in_stripe_without_a_webhook_leaves_billing_methods(world: World) -> None:
    card = world.stripe.card(world.acme_customer, MASTERCARD)
    assert "•••• 4444" in _methods(world)
    world.stripe.client.v1.payment_methods.detach(card)
    text = _methods(world)
    assert "4444" not in text and "Visa •••• 4242" in text


def test_billing_methods_answers_from_the_copy_then_replaces_its_reply_with_a_card_attached_in_stripe(
    world: World,
) -> None:
    _methods(world)  # the copy, read from Stripe
    world.stripe.card(world.acme_customer, MASTERCARD)  # straight to Stripe: the bot is not told
    _response, url = world.bot.command("methods")
    shown, corrected = world.bot.replies(url, count=2)
    assert "4444" not in json.dumps(shown) and "Visa •••• 4242" in json.dumps(shown, ensure_ascii=False)
    assert shown["replace_original"] is False  # a new reply to the command
    assert corrected["replace_original"] is True  # then that reply put right in place
    assert corrected["response_type"] == "ephemeral"
    assert "•••• 4444" in json.dumps(corrected, ensure_ascii=False)


def test_billing_methods_answers_from_the_copy_without_waiting_for_stripe(world: World) -> None:
    _methods(world)  # the copy, read from Stripe
    before = len(world.proxy.calls_to("GET", "/v1/"))
    world.proxy.slow_down("/v1/", 8, method="GET")  # Stripe answers nothing for 8 s
    try:
        _response, url = world.bot.command("methods")
        [shown] = world.bot.replies(url, timeout=6)
        assert "Visa •••• 4242" in json.dumps(shown, ensure_ascii=False)
        wait_until(lambda: len(world.proxy.calls_to("GET", "/v1/")) > before, 6, "Stripe asked in the background")
        asked = world.proxy.calls_to("GET", "/v1/")[before:]
        assert all(call.finished is None for call in asked)  # answered before Stripe said anything
    finally:
        world.proxy.release()
    wait_for_listeners(world.bot)


def test_billing_methods_sends_nothing_more_when_stripe_agrees_with_the_copy(world: World) -> None:
    _methods(world)  # the copy, read from Stripe
    before = len(world.proxy.calls_to("GET", "/v1/"))
    _response, url = world.bot.command("methods")
    world.bot.replies(url)
    wait_for_listeners(world.bot)
    assert len(world.proxy.calls_to("GET", "/v1/")) > before  # Stripe was asked, in the background
    assert len(world.bot.replies(url)) == 1  # and agreed: the reply stands


def _pay_modals(world: World) -> list[Any]:
    """The pay modal's views sent so far, in order (opened or updated, loading views aside)."""
    return [
        call
        for call in world.slack.calls()
        if call.method in ("views.open", "views.update") and call.json_args["view"].get("callback_id") == "pay_modal"
    ]


def _picker_of(call: Any) -> str:
    picker = next(b for b in call.json_args["view"]["blocks"] if b.get("block_id") == "pay_method")
    return json.dumps(picker, ensure_ascii=False)


def test_a_card_attached_in_stripe_is_added_to_the_open_pay_modal_in_place_once_its_copy_is_a_minute_old(
    world: World, later: Any
) -> None:
    assert "4444" not in _picker(world)
    world.stripe.card(world.acme_customer, MASTERCARD)
    later(61)
    world.slack.clear()
    world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
    wait_until(lambda: len(_pay_modals(world)) >= 2, 10, "the pay modal corrected")
    shown, corrected = _pay_modals(world)[:2]
    assert "4444" not in _picker_of(shown)  # opened from the copy at once
    assert "•••• 4444" in _picker_of(corrected)  # then put right where it stands
    assert corrected.json_args["view_id"] == shown.response["view"]["id"]
    assert corrected.json_args["hash"] == shown.response["view"]["hash"]


def test_the_pay_modal_opens_from_an_hour_old_copy_without_waiting_for_stripe(world: World, later: Any) -> None:
    _methods(world)  # the copy, read from Stripe
    later(3600)
    before = len(world.proxy.calls_to("GET", "/v1/"))
    world.proxy.slow_down("/v1/", 8, method="GET")  # Stripe answers nothing for 8 s
    try:
        world.slack.clear()
        world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
        wait_until(lambda: bool(_pay_modals(world)), 6, "the pay modal")
        assert "Visa •••• 4242" in _picker_of(_pay_modals(world)[0])
        asked = world.proxy.calls_to("GET", "/v1/")[before:]
        assert all(call.finished is None for call in asked)  # opened before Stripe said anything
    finally:
        world.proxy.release()
    wait_until(lambda: all(c.finished is not None for c in world.proxy.calls_to("GET", "/v1/")), 10, "Stripe done")


def test_a_card_detached_in_stripe_without_a_webhook_is_taken_out_of_the_open_pay_modal(
    world: World, later: Any
) -> None:
    card = world.stripe.card(world.acme_customer, MASTERCARD)
    assert "•••• 4444" in _methods(world)
    world.stripe.client.v1.payment_methods.detach(card)  # straight in Stripe: no webhook
    later(61)
    world.slack.clear()
    world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
    wait_until(lambda: len(_pay_modals(world)) >= 2, 10, "the pay modal corrected")
    shown, corrected = _pay_modals(world)[:2]
    assert "•••• 4444" in _picker_of(shown)
    assert corrected.method == "views.update" and corrected.json_args["hash"] == shown.response["view"]["hash"]
    assert "4444" not in _picker_of(corrected) and "Visa •••• 4242" in _picker_of(corrected)


def test_a_person_who_moved_on_keeps_what_they_see_when_the_correction_comes_late(world: World, later: Any) -> None:
    world.stripe.card(world.acme_customer, MASTERCARD)
    later(61)
    world.proxy.slow_down("/v1/", 8, method="GET")
    try:
        world.slack.clear()
        world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
        wait_until(lambda: bool(_pay_modals(world)), 6, "the pay modal")
        [shown] = _pay_modals(world)
        # The person changes the modal (here: another screen shown in it) before Stripe answers.
        moved_on = {"type": "modal", "title": {"type": "plain_text", "text": "Elsewhere"}, "blocks": []}
        WebClient(token="xoxb-e2e", base_url=world.slack.base_url).views_update(
            view_id=shown.response["view"]["id"], view=moved_on
        )
    finally:
        world.proxy.release()
    refused = world.slack.wait_for("views.update", count=2, timeout=10)[-1]  # ours, then the correction
    assert refused.response is not None and refused.response.get("error") == "hash_conflict"
    assert len(_pay_modals(world)) == 2  # the late correction was refused, nothing else sent


def test_a_card_webhook_updates_the_copy_the_pay_modal_opens_from(world: World) -> None:
    _methods(world)
    card = world.stripe.card(world.acme_customer, MASTERCARD)
    event = {
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "object": "event",
        "type": "payment_method.attached",
        "created": int(time.time()),
        "data": {"object": {"id": card, "object": "payment_method", "customer": world.acme_customer}},
    }
    payload = json.dumps(event).encode()
    answer = world.bot.http.post(
        "/stripe/webhook", content=payload, headers=stripe_signed_headers(WEBHOOK_SECRET, payload)
    )
    assert answer.status_code == 200
    asked = len(world.proxy.calls_to("GET", "/v1/"))
    world.slack.clear()
    world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
    wait_until(lambda: bool(_pay_modals(world)), 6, "the pay modal")
    assert "•••• 4444" in _picker_of(_pay_modals(world)[0])
    assert len(world.proxy.calls_to("GET", "/v1/")) == asked  # the copy is fresh: Stripe not asked


def test_the_pay_picker_opens_at_once_from_a_copy_under_a_minute_old(world: World, later: Any) -> None:
    _methods(world)  # asked Stripe just now
    later(30)
    _picker(world)
    # Opened with the click itself (issue 28: trigger ids expire), filled from the copy: one call.
    [opened] = world.slack.wait_for("views.open")
    assert opened.json_args["view"].get("callback_id") == "pay_modal"
    assert world.slack.calls("views.update") == []


def test_the_card_list_in_a_modal_shows_the_copy_then_a_card_attached_in_stripe_in_place(world: World) -> None:
    _methods(world)  # the copy, read from Stripe
    world.stripe.card(world.acme_customer, MASTERCARD)  # straight to Stripe: no webhook
    world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
    modal = world.bot.last_view(where=lambda v: v.get("callback_id") == "pay_modal")
    world.slack.clear()
    world.bot.press("show_methods", {"account": "acme"}, view={"id": modal["id"], "type": "modal"})
    [shown, corrected] = world.slack.wait_for("views.update", count=2, timeout=10)
    assert "4444" not in json.dumps(shown.json_args["view"]) and "4242" in json.dumps(shown.json_args["view"])
    assert shown.response is not None and corrected.json_args["hash"] == shown.response["view"]["hash"]
    assert "•••• 4444" in json.dumps(corrected.json_args["view"], ensure_ascii=False)
