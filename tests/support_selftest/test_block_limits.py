"""The payload checker finds each kind of payload Slack refuses (so a clean run means something)."""

from __future__ import annotations

from typing import Any

from tests.support.block_limits import message_problems, view_problems


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id: str, value: str = "v", text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


def test_a_clean_message_has_no_problems() -> None:
    blocks = [section("*Hi* &amp; <@U1>"), {"type": "actions", "elements": [button("a"), button("b")]}]
    assert message_problems(blocks) == []


def test_each_limit_slack_sdk_does_not_check_is_found() -> None:
    cases: dict[str, list[dict[str, Any]]] = {
        "2 times in one block": [{"type": "actions", "elements": [button("a"), button("a")]}],
        "button value of 2001": [{"type": "actions", "elements": [button("a", "x" * 2001)]}],
        "a bare or cut '&'": [section("Tom &am…")],
        "Slack markup '<'": [section("`/billing pay <invoice number>`")],
        "51 blocks": [section("x")] * 51,
        "block_id 'b' 2 times": [{**section("x"), "block_id": "b"}, {**section("y"), "block_id": "b"}],
        "option value of 151": [
            section("x")
            | {
                "accessory": {
                    "type": "static_select",
                    "action_id": "s",
                    "placeholder": {"type": "plain_text", "text": "p"},
                    "options": [{"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}],
                }
            }
        ],
        "confirm text of 301": [
            {
                "type": "actions",
                "elements": [
                    button("a")
                    | {
                        "confirm": {
                            "title": {"type": "plain_text", "text": "t"},
                            "text": {"type": "mrkdwn", "text": "x" * 301},
                            "confirm": {"type": "plain_text", "text": "ok"},
                            "deny": {"type": "plain_text", "text": "no"},
                        }
                    }
                ],
            }
        ],
    }
    for expected, blocks in cases.items():
        found = message_problems(blocks)
        assert any(expected in problem for problem in found), (expected, found)


def test_a_modal_with_a_long_title_or_metadata_is_found() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "x" * 25},
        "blocks": [section("x")],
        "private_metadata": "m" * 3001,
    }
    found = " ".join(view_problems(view))
    assert "view title of 25" in found and "private_metadata of 3001" in found
