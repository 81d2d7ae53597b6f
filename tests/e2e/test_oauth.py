"""Many workspaces: OAuth install and redirect, installations stored in our database, used per team."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import app_home_opened_event, event_body
from tests.support.bot_harness import ANN, SAMPLE, BotServer, wait_until
from tests.support.template_db import migrated_sqlite_url


def oauth_access(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "app_id": "A111",
        "access_token": "xoxb-installed-T111",
        "token_type": "bot",
        "scope": "commands,chat:write,users:read,users:read.email,im:write",
        "bot_user_id": "UBOT",
        "team": {"id": "T111", "name": "Acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": ANN},
    }


@pytest.fixture
def oauth_bot(tmp_path: Path) -> Iterator[tuple[BotServer, SlackAPI]]:
    url = migrated_sqlite_url(tmp_path / "oauth.db")
    # oauth.v2.access authenticates with client id and secret (basic auth), not a bearer token.
    with SlackAPI(require_token=False) as slack:
        slack.add_user(ANN, "ann@acme.test", "Ann Lee")
        slack.set_handler("oauth.v2.access", oauth_access)
        # E-mail code verification (the OAuth default) has its own tests; here Slack's e-mail is taken.
        bot = BotServer(
            slack,
            "http://127.0.0.1:9",
            url,
            SLACK_CLIENT_ID="111.222",
            SLACK_CLIENT_SECRET="shh",
            IDENTITY_VERIFICATION="slack_email",
            SLACK_EMAIL_TRUSTED_TEAMS="T111",
        )
        bot.start()
        bot.services.importer.run(SAMPLE)
        try:
            yield bot, slack
        finally:
            bot.stop()


def _install(bot: BotServer, slack: SlackAPI) -> None:
    """Through Slack's consent page and back, as a workspace admin does."""
    install = bot.http.get("/slack/install")
    state = re.search(r"state=([A-Za-z0-9_-]+)", install.headers["location"])
    assert state is not None
    cookie = install.headers["set-cookie"].split(";")[0]
    done = bot.http.get(
        "/slack/oauth_redirect", params={"code": "the-code", "state": state.group(1)}, headers={"Cookie": cookie}
    )
    assert done.status_code == 200, done.text


def _installed(bot: BotServer, team_id: str) -> bool:
    with bot.db.engine.connect() as connection:
        found = connection.execute(text("SELECT count(*) FROM slack_bots WHERE team_id = :t"), {"t": team_id})
        return bool(found.scalar())


def _answered(bot: BotServer, url: str) -> bool:
    try:
        return "$1,750.50" in json.dumps(bot.replies(url, timeout=2))
    except Exception:  # nothing came
        return False


@pytest.mark.parametrize(
    "event",
    [
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}},
        {"type": "app_uninstalled"},
    ],
)
def test_after_the_workspace_revokes_or_uninstalls_its_old_token_is_never_used_again(
    oauth_bot: tuple[BotServer, SlackAPI], event: dict[str, Any]
) -> None:
    bot, slack = oauth_bot
    _install(bot, slack)
    for _ in range(2):  # authorization and the workspace's client are cached now
        _, url = bot.command("balance")
        assert _answered(bot, url)
    assert bot.post(event_body(event, team_id="T111")).status_code == 200
    wait_until(lambda: not _installed(bot, "T111"), 10, "the installation removed")
    slack.clear()

    _, url = bot.command("balance")
    home = bot.post(event_body(app_home_opened_event(ANN), team_id="T111"))
    assert home.status_code < 500
    assert not _answered(bot, url)
    assert [c.method for c in slack.calls() if c.token == "xoxb-installed-T111"] == []


def test_install_stores_the_workspace_and_its_token_serves_requests(oauth_bot: tuple[BotServer, SlackAPI]) -> None:
    bot, slack = oauth_bot
    tables = set(inspect(bot.db.engine).get_table_names())
    assert {"slack_bots", "slack_installations", "slack_oauth_states"} <= tables

    install = bot.http.get("/slack/install")
    assert install.status_code == 302  # straight to Slack's consent page, no intermediate page of ours
    consent = install.headers["location"]
    assert consent.startswith("https://slack.com/oauth/v2/authorize?")
    state = re.search(r"state=([A-Za-z0-9_-]+)", consent)
    assert state and "client_id=111.222" in consent and "users:read.email" in consent.replace("%3A", ":")

    cookie = install.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    # The cookie is Secure (https only); a browser on the real https URL sends it back like this.
    done = bot.http.get(
        "/slack/oauth_redirect",
        params={"code": "the-code", "state": state.group(1)},
        headers={"Cookie": cookie.split(";")[0]},
    )
    assert done.status_code == 200, done.text
    assert slack.last("oauth.v2.access").args.get("code") == "the-code"

    _, url = bot.command("balance")
    assert "$1,750.50" in bot.reply_text(url)
    assert slack.last("users.info").token == "xoxb-installed-T111"


def test_a_redirect_with_a_forged_state_installs_nothing(oauth_bot: tuple[BotServer, SlackAPI]) -> None:
    bot, slack = oauth_bot
    answer = bot.http.get("/slack/oauth_redirect", params={"code": "the-code", "state": "forged"})
    assert 400 <= answer.status_code < 500
    assert slack.calls("oauth.v2.access") == []


def test_a_workspace_that_never_installed_gets_nothing(oauth_bot: tuple[BotServer, SlackAPI]) -> None:
    bot, slack = oauth_bot
    response, _url = bot.command("balance")
    assert response.status_code < 500
    assert slack.calls("users.info") == []
