"""A click on "View invoice" opens the document in the browser; Slack still posts the action, and
the bot acknowledges it and does nothing else."""

from __future__ import annotations

import time

from devtools.loopback.slack_signing import button_action
from tests.support.bot_fixtures import World


def test_a_view_invoice_click_is_acknowledged_and_changes_nothing(world: World) -> None:
    world.slack.clear()
    response, _ = world.bot.click(button_action("link_view_invoice", "", text="View invoice"))
    assert response.status_code == 200
    time.sleep(0.5)  # a follow-up would have been posted by now
    assert [c.method for c in world.slack.calls()] == []
