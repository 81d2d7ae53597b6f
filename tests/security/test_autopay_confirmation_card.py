"""The autopay confirmation's card check cannot be skipped by leaving the card out of the click
(issue 25, item 6): turning autopay on must name the card the confirmation showed.

Real parts: the running bot (uvicorn, signed requests, the Slack Web API stand-in, localstripe).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN_ACTOR

WITHOUT_A_CARD: dict[str, dict[str, Any]] = {
    "no card at all": {"account": "acme", "on": True},
    "a null card": {"account": "acme", "on": True, "card": None},
}


def _forgeries(world: World) -> int:
    return sum(1 for entry in world.bot.services.audit.entries() if entry.action == "forgery.refused")


@pytest.mark.parametrize("value", WITHOUT_A_CARD.values(), ids=WITHOUT_A_CARD.keys())
def test_a_turn_on_click_without_the_confirmed_card_is_refused_as_out_of_date_and_changes_nothing(
    world: World, value: dict[str, Any]
) -> None:
    assert world.bot.services.autopay is not None
    before = _forgeries(world)
    _, url = world.bot.press("autopay_set", value)
    assert "out of date" in world.bot.reply_text(url).lower()
    assert not world.bot.services.autopay.status(ANN_ACTOR, "acme").enabled
    assert _forgeries(world) == before + 1  # audited like any forged value


def test_the_confirmation_with_its_card_still_turns_autopay_on_and_turning_off_needs_no_card(world: World) -> None:
    assert world.bot.services.autopay is not None
    _, url = world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    assert "autopay is on" in world.bot.reply_text(url)
    _, url = world.bot.press("autopay_set", {"account": "acme", "on": False})
    assert "autopay is off" in world.bot.reply_text(url)
    assert not world.bot.services.autopay.status(ANN_ACTOR, "acme").enabled
