"""App Home, history paging, the Slack Web API's 429 answers, and replies never in a channel."""

from __future__ import annotations

import json
from typing import Any

from devtools.loopback.slack_signing import app_home_opened_event
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, ANN_ACTOR, STRANGER, SUPPORT_EMAIL, wait_for_listeners


def test_opening_the_home_tab_publishes_a_dashboard_of_the_active_account(world: World) -> None:
    response = world.bot.event(app_home_opened_event(ANN))
    assert response.status_code == 200
    [call] = world.bot.wait_calls("views.publish")
    assert call.json_args["user_id"] == ANN
    view = json.dumps(call.json_args["view"], ensure_ascii=False)
    assert call.json_args["view"]["type"] == "home"
    assert "Acme Corp" in view and "$1,750.50" in view and "INV-1" in view
    for button in ("Pay full balance ($1,750.50)", "Payment methods", "History", "Contact billing support"):
        assert button in view
    assert "switch_account" in view


def test_the_home_tab_of_someone_who_is_not_a_contact_only_names_support(world: World) -> None:
    world.bot.event(app_home_opened_event(STRANGER))
    [call] = world.bot.wait_calls("views.publish")
    view = json.dumps(call.json_args["view"])
    assert SUPPORT_EMAIL in view and "Acme" not in view


def test_switching_account_from_the_home_tab_republishes_it(world: World) -> None:
    action = {
        "type": "static_select",
        "action_id": "switch_account",
        "block_id": "home_switch",
        "selected_option": {"text": {"type": "plain_text", "text": "Globex"}, "value": "globex"},
        "action_ts": "1.2",
    }
    world.bot.click(action, view={"id": "VHOME", "type": "home"})
    world.bot.wait_calls("views.publish", where=lambda c: "Globex" in json.dumps(c.json_args))
    assert world.slack.calls("views.open") == []


def test_a_button_on_the_home_tab_opens_its_screen_in_a_modal(world: World) -> None:
    world.bot.press("show_methods", {"account": "acme"}, view={"id": "VHOME", "type": "home"})
    world.bot.wait_calls("views.open")
    view = world.bot.last_view(where=lambda v: "Visa" in json.dumps(v))
    assert view["title"]["text"] == "Payment methods"


def test_history_is_paged_with_date_amount_card_invoices_and_status(world: World) -> None:
    for number in ("INV-1", "INV-2"):
        payment = world.bot.services.require_payments().service.start_invoice_payment(
            ANN_ACTOR, "acme", number, world.acme_card
        )
        world.bot.services.require_payments().service.execute(payment.id)
    _response, url = world.bot.command("history")
    text = world.bot.reply_text(url)
    assert "25 Nov 2026" in text and "$1,250.00" in text and "Visa •••• 4242" in text and "INV-2" in text
    assert "paid" in text and "Page 1 of 1" in text


def test_a_slack_429_is_retried_after_the_ack(world: World) -> None:
    world.bot.identity.clear()
    world.slack.fail_next("users.info", status=429, retry_after=1)
    response, url = world.bot.command("balance")
    assert response.status_code == 200
    assert "$1,750.50" in world.bot.reply_text(url)
    calls = world.slack.calls("users.info")
    assert [c.status for c in calls] == [429, 200]


def test_a_429_on_the_response_url_is_retried_too(world: World) -> None:
    world.bot.identity.clear()  # a cold identity: answered after the ack, through the response_url
    world.slack.fail_next("response_url", status=429, retry_after=1)
    response, url = world.bot.command("balance")
    assert response.status_code == 200
    posts = world.bot.replies(url, count=2)
    assert len(posts) == 2 and [c.status for c in world.slack.response_url_posts(url)] == [429, 200]


def test_no_reply_is_ever_posted_in_channel(world: World) -> None:
    urls = [
        world.bot.command(text)[1]
        for text in ("", "help", "pay", "methods", "history", "accounts", "balance", "invoices", "pay 5")
    ]
    shown = [world.bot.replies(url)[0] for url in urls]  # in the ack body or through the response_url
    assert all(reply["response_type"] == "ephemeral" for reply in shown)
    assert all(json.loads(c.body)["response_type"] == "ephemeral" for c in world.slack.calls("response_url"))
    assert world.slack.calls("chat.postMessage") == []


def _shown_home(world: World) -> dict[str, Any]:
    """The Home Slack shows Ann now: the view her last ``views.publish`` got back (hash included)."""
    [*_, last] = world.slack.calls("views.publish")
    assert last.response is not None
    view: dict[str, Any] = last.response["view"]
    return view


def _open_home(world: World, view: dict[str, Any] | None) -> int:
    """Ann opens her Home tab (Slack sends the view it shows); how many views.publish there were after."""
    world.bot.event(app_home_opened_event(ANN, view=view))
    wait_for_listeners(world.bot)
    return len(world.slack.calls("views.publish"))


def test_opening_the_home_tab_twice_without_a_change_publishes_it_once(world: World) -> None:
    assert _open_home(world, None) == 1
    assert _open_home(world, _shown_home(world)) == 1
    assert _open_home(world, _shown_home(world)) == 1


def test_after_a_payment_opening_the_home_tab_publishes_it_again(world: World) -> None:
    assert _open_home(world, None) == 1
    payments = world.bot.services.require_payments().service
    payment = payments.start_invoice_payment(ANN_ACTOR, "acme", "INV-1", world.acme_card)
    payments.execute(payment.id)
    assert _open_home(world, _shown_home(world)) == 2
    view = json.dumps(_shown_home(world))
    assert "INV-2" in view and "INV-1" not in view
    assert _open_home(world, _shown_home(world)) == 2  # and only once


def test_switching_account_republishes_the_home_and_the_next_open_does_not(world: World) -> None:
    assert _open_home(world, None) == 1
    action = {
        "type": "static_select",
        "action_id": "switch_account",
        "block_id": "home_switch",
        "selected_option": {"text": {"type": "plain_text", "text": "Globex"}, "value": "globex"},
        "action_ts": "1.2",
    }
    world.bot.click(action, view={"id": "VHOME", "type": "home"})
    world.bot.wait_calls("views.publish", count=2)
    wait_for_listeners(world.bot)
    assert "Globex" in json.dumps(_shown_home(world))
    published = len(world.slack.calls("views.publish"))
    assert _open_home(world, _shown_home(world)) == published


def test_a_home_tab_showing_a_view_this_process_did_not_publish_is_published_again(world: World) -> None:
    assert _open_home(world, None) == 1
    other = dict(_shown_home(world), hash="1.another-replicas-publish")
    assert _open_home(world, other) == 2
