"""Slack tokens of OAuth installs are encrypted in the database with SLACK_TOKEN_ENCRYPTION_KEY,
and the key can be rotated (issue 19, item 7).

Real parts: the e2e bot in OAuth mode on uvicorn with the Slack Web API stand-in (install flow,
then a signed command served with the stored token), its database, and ``billing-bot
installations reencrypt`` as a process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from billing_core.db.database import Database
from bot.slack.installation_store import EncryptedInstallationStore
from bot.slack.token_cipher import TokenCipher
from devtools.loopback.slack_api import SlackAPI
from tests.security.test_oauth_install_policy import command_from, install, oauth_bot
from tests.support.bot_harness import ANN, BotServer

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
BOT_TOKEN = "xoxe.xoxb-1-MS0yLTExMTEtMjIyMi1ib3QtdG9rZW4tb2YtYWNtZS13aXRoLXJvdGF0aW9uLWVuYWJsZWQtdmVyeS1sb25n"
BOT_REFRESH = "xoxe-1-My0xLTExMTEtMjIyMi1yZWZyZXNoLXRva2VuLW9mLWFjbWUtYm90LWZvci1yb3RhdGlvbi1sb25nLWVub3VnaA"
USER_TOKEN = "xoxe.xoxp-1-MS0yLTExMTEtMjIyMi11c2VyLXRva2VuLW9mLWFubg"
USER_REFRESH = "xoxe-1-My0xLTExMTEtMjIyMi11c2VyLXJlZnJlc2gtdG9rZW4tb2YtYW5u"
PLAIN = (BOT_TOKEN, BOT_REFRESH, USER_TOKEN, USER_REFRESH)


def oauth_access(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "app_id": "A111",
        "access_token": BOT_TOKEN,
        "refresh_token": BOT_REFRESH,
        "expires_in": 43200,
        "token_type": "bot",
        "scope": "commands,chat:write,users:read,users:read.email,im:write",
        "bot_user_id": "UBOT",
        "team": {"id": "T111", "name": "Acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {
            "id": ANN,
            "access_token": USER_TOKEN,
            "refresh_token": USER_REFRESH,
            "expires_in": 43200,
            "scope": "users:read",
            "token_type": "user",
        },
    }


def everything_stored(bot: BotServer) -> str:
    with bot.db.engine.connect() as connection:
        rows = [
            *connection.execute(text("SELECT * FROM slack_bots")),
            *connection.execute(text("SELECT * FROM slack_installations")),
        ]
    return "\n".join(" ".join(str(value) for value in row) for row in rows)


def stored_bot_token(database_url: str, keys: str | None) -> str | None:
    database = Database(database_url)
    try:
        store = EncryptedInstallationStore(
            client_id="111.222", engine=database.engine, cipher=TokenCipher(keys) if keys else None
        )
        bot = store.find_bot(enterprise_id=None, team_id="T111")
        return bot.bot_token if bot is not None else None
    finally:
        database.dispose()


def reencrypt(database_url: str, keys: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=database_url, SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="shh", SLACK_TOKEN_ENCRYPTION_KEY=keys
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "installations", "reencrypt"], env=env, capture_output=True, text=True, timeout=60
    )


def test_installed_tokens_are_encrypted_in_the_database_and_still_serve_requests(
    installed: tuple[BotServer, SlackAPI],
) -> None:
    bot, slack = installed
    stored = everything_stored(bot)
    assert "enc:v1:" in stored
    for token in PLAIN:
        assert token not in stored

    _, url = command_from(bot, ANN, "T111", "balance")
    assert "$1,750.50" in bot.reply_text(url)
    assert slack.last("users.info").token == BOT_TOKEN


def test_a_copy_of_the_database_without_the_key_gives_no_token(installed: tuple[BotServer, SlackAPI]) -> None:
    bot, _ = installed
    wrong_key = Fernet.generate_key().decode()
    assert stored_bot_token(bot.settings.database_url, wrong_key) is None
    assert stored_bot_token(bot.settings.database_url, None) not in PLAIN


@pytest.mark.process
def test_rotating_the_key_reencrypts_every_token_under_the_new_one(installed: tuple[BotServer, SlackAPI]) -> None:
    bot, _ = installed
    url = bot.settings.database_url
    result = reencrypt(url, f"{KEY_B},{KEY_A}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "re-encrypted 2 row(s)"
    assert stored_bot_token(url, KEY_B) == BOT_TOKEN
    assert stored_bot_token(url, KEY_A) is None  # the old key alone no longer opens them


@pytest.mark.process
def test_tokens_stored_before_a_key_was_set_are_read_and_then_encrypted(tmp_path: Path) -> None:
    bot, slack = oauth_bot(tmp_path, IDENTITY_VERIFICATION="slack_email", SLACK_EMAIL_TRUSTED_TEAMS="T111")
    slack.set_handler("oauth.v2.access", oauth_access)
    try:
        assert install(bot, "T111") == 200
        url = bot.settings.database_url
        assert stored_bot_token(url, KEY_A) == BOT_TOKEN  # plain text passes through
        assert reencrypt(url, KEY_A).returncode == 0
        assert BOT_TOKEN not in everything_stored(bot)
        assert stored_bot_token(url, KEY_A) == BOT_TOKEN
    finally:
        bot.stop()
        slack.stop()
