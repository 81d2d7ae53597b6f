"""The card-number guard middleware over every kind of text Slack sends (pure: bodies in, responses out)."""

from __future__ import annotations

import json
import sys
import unicodedata
import uuid
from typing import Any

import pytest
from slack_bolt import BoltResponse

from billing_core.card_guard import REDACTED, contains_card_number
from handlers.kit.errors import CARD_NUMBER_GUIDANCE
from handlers.kit.text_guard import card_number_guard

TYPED = "4242\u2014 4242\u00a0\u00a04242\ufe634242"


def _run(body: dict[str, Any]) -> tuple[BoltResponse, bool]:
    ran: list[bool] = []

    def next_() -> BoltResponse:
        ran.append(True)
        return BoltResponse(status=200, body="listener")

    return card_number_guard(body, next_), bool(ran)


def _view(text: str) -> dict[str, Any]:
    return {"state": {"values": {"message": {"message_input": {"type": "plain_text_input", "value": text}}}}}


def test_every_unicode_dash_between_the_groups_is_caught() -> None:
    dashes = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Pd"]
    assert dashes and [d for d in dashes if not contains_card_number(d.join(["4242"] * 4))] == []


def test_a_slash_command_with_a_dashed_card_number_gets_the_guidance_and_no_listener_runs() -> None:
    response, ran = _run({"command": "/billing", "text": f"support {TYPED}"})
    assert not ran and json.loads(response.body) == {"response_type": "ephemeral", "text": CARD_NUMBER_GUIDANCE}


def test_a_modal_submission_with_a_card_number_is_an_inline_error() -> None:
    response, ran = _run({"type": "view_submission", "view": _view(f"card {TYPED}")})
    assert not ran and json.loads(response.body)["errors"] == {"message": CARD_NUMBER_GUIDANCE}


def test_a_button_pressed_in_a_modal_holding_a_typed_card_number_runs_no_listener() -> None:
    response, ran = _run({"type": "block_actions", "actions": [{"type": "button", "value": "x"}], "view": _view(TYPED)})
    assert not ran and response.status == 200 and response.body == ""


def test_a_dispatched_text_input_holding_a_card_number_runs_no_listener() -> None:
    response, ran = _run({"type": "block_actions", "actions": [{"type": "plain_text_input", "value": TYPED}]})
    assert not ran and response.body == ""


def test_a_card_number_typed_into_a_select_search_gets_no_options() -> None:
    response, ran = _run({"type": "block_suggestion", "value": TYPED})
    assert not ran and json.loads(response.body) == {"options": []}


@pytest.mark.parametrize(
    "body",
    [
        {"command": "/billing", "text": "pay INV-1001"},
        {"type": "view_submission", "view": _view("call me on 555 0100 about INV-2026-12-08")},
        {"type": "block_actions", "actions": [{"type": "button", "value": "4242424242424242"}]},
        {"type": "block_suggestion", "value": "acme"},
    ],
)
def test_ordinary_text_and_our_own_button_values_reach_the_listener(body: dict[str, Any]) -> None:
    response, ran = _run(body)
    assert ran and response.body == "listener"


def test_a_message_event_reaches_its_listener_with_the_card_number_removed_and_ids_intact() -> None:
    ts = "1733456789.123456"
    event: dict[str, Any] = {
        "type": "message",
        "channel_type": "im",
        "ts": ts,
        "text": f"my card is {TYPED} ok",
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": f"my card is {TYPED} ok"}]}
                ],
            }
        ],
        "message": {"text": f"edited: {TYPED}", "ts": ts},
    }
    body = {"type": "event_callback", "event": event}
    response, ran = _run(body)
    assert ran and response.body == "listener"
    assert "4242" not in json.dumps(body) and event["text"] == f"my card is {REDACTED} ok"
    assert event["ts"] == ts and event["message"]["ts"] == ts


def _home_event(line: str) -> dict[str, Any]:
    """``app_home_opened`` carrying the Home Slack shows (our last publish, echoed back)."""
    view = {
        "id": "V1",
        "type": "home",
        "hash": "1733456789.abc",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": line}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Type `/billing help`"}]},
        ],
    }
    return {"type": "event_callback", "event": {"type": "app_home_opened", "user": "W1", "tab": "home", "view": view}}


def test_a_home_view_echoed_again_unchanged_is_not_walked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers.kit import text_guard

    checked: list[str] = []

    def counting(text: str) -> bool:
        checked.append(text)
        return contains_card_number(text)

    monkeypatch.setattr(text_guard, "contains_card_number", counting)
    line = f"*INV-{uuid.uuid4().hex[:8]}* · $1,250.00 · due 1 Dec 2026"
    assert _run(_home_event(line))[1]
    first = len(checked)
    assert first >= 2  # both texts of the view were looked at
    assert _run(_home_event(line))[1]
    assert len(checked) == first  # the same view again: not walked again
    assert _run(_home_event(line + " · overdue"))[1]
    assert len(checked) > first  # another view is


def test_a_home_view_holding_a_card_number_is_redacted_on_every_delivery() -> None:
    line = f"note {uuid.uuid4().hex[:6]}: {TYPED}"
    for _ in range(2):
        body = _home_event(line)
        response, ran = _run(body)
        assert ran and response.body == "listener"
        assert "4242" not in json.dumps(body) and REDACTED in json.dumps(body)
        assert body["event"]["view"]["hash"] == "1733456789.abc"  # ids left alone
