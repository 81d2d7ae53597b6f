"""``GET /slack/install`` needs no authentication: the OAuth states it writes are purged once expired
and bounded in number (issue 19, item 15).

Real parts: the e2e bot in OAuth mode on uvicorn, its database (slack-sdk's ``slack_oauth_states``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.slack.oauth import MAX_PENDING_INSTALLS
from tests.security.test_oauth_install_policy import oauth_bot
from tests.support.bot_harness import BotServer


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotServer]:
    server, slack = oauth_bot(tmp_path)
    yield server
    server.stop()
    slack.stop()


def add_states(bot: BotServer, count: int, expire_at: datetime) -> None:
    rows = [{"state": f"s{index}", "at": expire_at.replace(tzinfo=None)} for index in range(count)]
    with bot.db.engine.begin() as connection:
        connection.execute(text("INSERT INTO slack_oauth_states (state, expire_at) VALUES (:state, :at)"), rows)


def states(bot: BotServer) -> tuple[int, int]:
    """(expired, live) rows."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with bot.db.engine.connect() as connection:
        rows = [row[0] for row in connection.execute(text("SELECT expire_at FROM slack_oauth_states"))]
    stamps = [row if isinstance(row, datetime) else datetime.fromisoformat(str(row)) for row in rows]
    return sum(1 for at in stamps if at <= now), sum(1 for at in stamps if at > now)


def test_expired_install_states_are_purged_when_a_new_install_starts(bot: BotServer) -> None:
    add_states(bot, 500, datetime.now(UTC) - timedelta(minutes=1))
    assert bot.http.get("/slack/install").status_code == 302  # to Slack's consent page
    assert states(bot) == (0, 1)


def test_no_state_is_written_while_too_many_installs_are_pending(bot: BotServer) -> None:
    add_states(bot, MAX_PENDING_INSTALLS, datetime.now(UTC) + timedelta(minutes=5))
    answer = bot.http.get("/slack/install")
    assert 400 <= answer.status_code < 500
    assert states(bot) == (0, MAX_PENDING_INSTALLS)
