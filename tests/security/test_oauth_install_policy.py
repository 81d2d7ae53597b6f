"""Many workspaces (OAuth): whose profile e-mails are trusted, and who may install at all (issue 19, item 1).

Real parts: ``billing-bot serve`` as a process for the start-up refusal; the e2e bot on uvicorn with
the Slack Web API stand-in answering ``oauth.v2.access`` for the install flow.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import slash_command_body
from tests.support.bot_harness import ANN, SAMPLE, BotServer, ack_reply
from tests.support.localstripe_server import free_port
from tests.support.template_db import migrated_sqlite_url

BOT = [sys.executable, "-m", "bot"]
STRANGER = "U999"  # a user of a freshly installed workspace whose admin set ann@acme.test on her profile


def oauth_access(args: dict[str, Any]) -> dict[str, Any]:
    """``oauth.v2.access``: the code names the workspace installing (``code-T999``, ``code-E777``)."""
    code = str(args.get("code", ""))
    owner = code.removeprefix("code-")
    grid = owner.startswith("E")
    return {
        "ok": True,
        "app_id": "A111",
        "access_token": f"xoxb-installed-{owner}",
        "token_type": "bot",
        "scope": "commands,chat:write,users:read,users:read.email,im:write",
        "bot_user_id": "UBOT",
        "team": None if grid else {"id": owner, "name": owner},
        "enterprise": {"id": owner, "name": owner} if grid else None,
        "is_enterprise_install": grid,
        "authed_user": {"id": ANN},
    }


def oauth_bot(tmp_path: Path, **settings: str) -> tuple[BotServer, SlackAPI]:
    url = migrated_sqlite_url(tmp_path / "oauth.db")
    slack = SlackAPI(require_token=False).start()
    slack.add_user(ANN, "ann@acme.test", "Ann Lee")
    slack.add_user(STRANGER, "ann@acme.test", "Mallory")
    slack.set_handler("oauth.v2.access", oauth_access)
    bot = BotServer(
        slack, "http://127.0.0.1:9", url, SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="shh", **settings
    ).start()
    bot.services.importer.run(SAMPLE)
    return bot, slack


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[tuple[BotServer, SlackAPI]]]:
    running: list[tuple[BotServer, SlackAPI]] = []
    yield running
    for bot, slack in running:
        bot.stop()
        slack.stop()


def install(bot: BotServer, owner: str) -> int:
    """The browser's way through ``/slack/install`` and back to ``/slack/oauth_redirect``."""
    page = bot.http.get("/slack/install")
    state = re.search(r"state=([A-Za-z0-9_-]+)", page.headers.get("location", ""))  # a 302 to Slack
    assert state is not None
    cookie = page.headers["set-cookie"].split(";")[0]
    done = bot.http.get(
        "/slack/oauth_redirect", params={"code": f"code-{owner}", "state": state.group(1)}, headers={"Cookie": cookie}
    )
    return done.status_code


def command_from(bot: BotServer, user: str, team: str, text_: str) -> tuple[int, str]:
    """``/billing <text_>`` from ``user`` of workspace ``team``; the HTTP status and the command's response_url."""
    url = bot.slack.response_url
    response = bot.post(slash_command_body(text_, user_id=user, team_id=team, response_url=url))
    reply = ack_reply(response)
    if reply is not None:
        bot._ack_replies[url] = reply
    return response.status_code, url


def stored_installations(bot: BotServer) -> set[str]:
    with bot.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT team_id, enterprise_id FROM slack_bots")).all()
    return {row[0] or row[1] for row in rows}


@pytest.mark.process
def test_serve_with_oauth_and_slack_email_but_no_trusted_workspaces_refuses_to_start_naming_it(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="shh",
        SLACK_SIGNING_SECRET="signing",
        IDENTITY_VERIFICATION="slack_email",
    )
    result = subprocess.run(
        [*BOT, "serve", "--port", str(free_port()), "--no-scheduler"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "IDENTITY_VERIFICATION=slack_email" in lines[0]
    assert "SLACK_EMAIL_TRUSTED_TEAMS" in lines[0]


def test_a_user_of_an_untrusted_workspace_showing_a_contacts_email_sees_no_billing_data(
    tmp_path: Path,
    started: list[tuple[BotServer, SlackAPI]],
) -> None:
    bot, slack = oauth_bot(tmp_path, IDENTITY_VERIFICATION="slack_email", SLACK_EMAIL_TRUSTED_TEAMS="T111")
    started.append((bot, slack))
    assert install(bot, "T111") == 200
    assert install(bot, "T999") == 200

    _, trusted_url = command_from(bot, ANN, "T111", "balance")
    assert "$1,750.50" in bot.reply_text(trusted_url)

    _, stranger_url = command_from(bot, STRANGER, "T999", "balance")
    answer = bot.reply_text(stranger_url)
    assert "$1,750.50" not in answer and "Acme" not in answer
    assert "code" in answer.lower()


def test_an_install_from_a_workspace_outside_the_allow_list_is_refused_stored_nowhere_and_revoked(
    tmp_path: Path,
    started: list[tuple[BotServer, SlackAPI]],
) -> None:
    bot, slack = oauth_bot(tmp_path, SLACK_INSTALL_ALLOWED_TEAMS="T111, E777")
    started.append((bot, slack))

    assert install(bot, "T999") == 403
    assert stored_installations(bot) == set()
    assert [call.token for call in slack.calls("auth.revoke")] == ["xoxb-installed-T999"]

    status, _ = command_from(bot, STRANGER, "T999", "balance")
    assert status < 500
    assert slack.calls("users.info") == []


def test_an_install_from_an_allowed_workspace_or_grid_org_is_kept(
    tmp_path: Path,
    started: list[tuple[BotServer, SlackAPI]],
) -> None:
    bot, slack = oauth_bot(tmp_path, SLACK_INSTALL_ALLOWED_TEAMS="T111, E777")
    started.append((bot, slack))

    assert install(bot, "T111") == 200
    assert install(bot, "E777") == 200
    assert stored_installations(bot) == {"T111", "E777"}
    assert slack.calls("auth.revoke") == []
