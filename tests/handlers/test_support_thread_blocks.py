"""The support threads' Block Kit (issue 31): what each side reads, with hostile and extreme input."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from billing_core.escalations.threads import Link, ThreadMessage, clean_links
from billing_core.escalations.views import EscalationView
from handlers.escalations.blocks import staff_post
from handlers.escalations.thread_blocks import relayed_to_requester, relayed_to_staff, requester_thread_root
from tests.support.block_limits import message_problems

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MARKUP = "<!channel> <@U123> <https://evil.test|click> *bold* & <script>"


def request(**changes: Any) -> EscalationView:
    view = EscalationView(
        7, "ESC-000007", "acme", "Acme Corp", "INV-1", "other", "Something else", "Help", "user", "open", "sent",
        "ann@acme.test", "Ann Lee", "slack:T1:W111", AT,
    )  # fmt: skip
    return replace(view, **changes)


def message(text: str, links: tuple[Link, ...] = (), side: str = "staff", name: str = "Billing team") -> ThreadMessage:
    return ThreadMessage(1, "ESC-000007", side, name, text, links, AT)


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    """Each button's text, action id and value (JSON read when it is JSON: "Mark resolved" in the
    staff post carries the bare reference)."""
    return [
        (e["text"]["text"], e["action_id"], json.loads(e["value"]) if e["value"].startswith("{") else e["value"])
        for b in blocks
        for e in b.get("elements", [])
        if e.get("type") == "button"
    ]


@pytest.mark.parametrize(
    ("status", "waiting", "shown"),
    [
        ("open", None, [("Mark resolved", "resolved")]),
        ("open", AT, [("Mark resolved", "resolved")]),
        ("resolved", None, [("Reopen", "open")]),
    ],
    ids=["open", "waiting", "resolved"],
)
def test_the_requesters_first_message_shows_the_state_and_the_button_that_changes_it(
    status: str, waiting: datetime | None, shown: list[tuple[str, str]]
) -> None:
    view = request(status=status, waiting_since=waiting)
    text, blocks = requester_thread_root(view)
    assert f"State: *{view.state_label}*" in json.dumps(blocks)
    assert [(label, value["state"]) for label, _, value in buttons(blocks)] == shown
    assert all(action == "support_requester_state" for _, action, _ in buttons(blocks))
    assert all(value["reference"] == "ESC-000007" for _, _, value in buttons(blocks))
    assert message_problems(blocks, text) == []


def test_the_staff_post_offers_waiting_or_back_to_open_besides_mark_resolved() -> None:
    _, open_blocks = staff_post(request(), "W111")
    assert [label for label, _, _ in buttons(open_blocks)] == ["Mark resolved", "Waiting on customer"]
    _, waiting_blocks = staff_post(request(waiting_since=AT), "W111")
    assert [label for label, _, _ in buttons(waiting_blocks)] == ["Mark resolved", "Back to open"]
    assert "State: *Waiting on customer*" in json.dumps(waiting_blocks)
    _, resolved_blocks = staff_post(request(status="resolved", resolved_by="slack:T1:W111"), "W111")
    assert [label for label, _, _ in buttons(resolved_blocks)] == ["Reopen"]
    assert "Resolved by the requester" in json.dumps(resolved_blocks)


@pytest.mark.parametrize("build", [relayed_to_requester, relayed_to_staff], ids=["to requester", "to staff"])
def test_markup_typed_on_one_side_is_data_on_the_other_and_links_stay_links(build: Any) -> None:
    links = clean_links([Link("https://files.test/po.pdf", "po|<b>.pdf"), Link("javascript:alert(1)", "x")])
    text, blocks = build(request(), message(MARKUP, links, name="Sam <@U9> *Staff*"))
    posted = json.dumps({"text": text, "blocks": blocks}, ensure_ascii=False)
    for markup in ("<!channel>", "<@U123>", "<https://evil.test|click>", "<script>", "<@U9>"):
        assert markup not in posted
    assert "<https://files.test/po.pdf|po/&lt;b&gt;.pdf>" in posted  # the file: a link, its name escaped
    assert "javascript:" not in posted  # only http(s) links pass
    assert "ESC-000007" in posted
    assert message_problems(blocks, text) == []


def test_a_link_that_could_break_out_of_slacks_link_markup_is_dropped() -> None:
    kept = clean_links(
        [Link("https://a.test/x>|<!channel>", "a"), Link("https://b.test/ok", "b"), Link("ftp://c.test", "c")]
    )
    assert [link.url for link in kept] == ["https://b.test/ok"]
