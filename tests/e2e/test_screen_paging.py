"""Paging buttons reach their pages and nothing offers to pay $0.00, over signed HTTP (issue 16)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN_ACTOR
from tests.support.sample_accounts import SAMPLE, account, invoice


def buttons(reply: dict[str, Any], text: str) -> list[dict[str, Any]]:
    return [
        e
        for b in reply.get("blocks", [])
        for e in b.get("elements", [])
        if e.get("type") == "button" and e["text"]["text"] == text
    ]


def test_previous_on_a_history_page_shows_the_page_before(world: World) -> None:
    _, url = world.bot.press("show_history_previous", {"account": "acme", "page": 0})
    text = world.bot.reply_text(url)
    assert "Payment history for Acme Corp" in text and "out of date" not in text


def test_more_cards_reaches_the_cards_past_the_twentieth(world: World) -> None:
    added = [world.stripe.card(world.acme_customer) for _ in range(21)]
    methods = world.bot.services.require_payments().methods
    assert methods is not None
    methods.list(ANN_ACTOR, "acme", refresh=True)
    _, url = world.bot.command("methods")
    first = world.bot.replies(url)[0]
    [more] = buttons(first, "More cards")
    assert "and 2 more" in json.dumps(first)
    _, url = world.bot.press(more["action_id"], more["value"])
    second = world.bot.replies(url)[0]
    removable = {json.loads(b["value"])["method"] for b in buttons(first, "Remove") + buttons(second, "Remove")}
    assert removable == {world.acme_card, *added}


def test_a_zero_balance_opens_no_pay_modal(world: World) -> None:
    zero = account(
        "zero", "Zero Ltd", "usd", [("ann@acme.test", "Ann Lee")], [invoice("Z-1", "2026-11-01", "2026-12-01", 0)]
    )
    world.bot.services.importer.run({"accounts": [*SAMPLE["accounts"], zero]})
    world.bot.services.accounts.switch(ANN_ACTOR, "zero")
    _, url = world.bot.command("invoices")
    assert "Pay" not in [e["text"]["text"] for e in buttons(world.bot.replies(url)[0], "Pay")]
    world.bot.press("pay_open", {"account": "zero", "balance": True})
    view = world.bot.last_view(where=lambda v: "nothing to pay" in json.dumps(v))
    assert "Pay $0.00" not in json.dumps(view)
