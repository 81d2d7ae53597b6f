"""Token encryption's edges (issue 25, item 8): with the key removed after tokens were encrypted, the
bot refuses to start with one clear line instead of sending the ciphertext to Slack as a bearer
token; ``installations reencrypt`` with a wrong key says so in one line and changes nothing.

Real parts: the e2e bot in OAuth mode (install flow through the Slack Web API stand-in, tokens stored
encrypted), then ``billing-bot serve`` and ``billing-bot installations reencrypt`` as processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from devtools.loopback.slack_api import SlackAPI
from tests.security.test_token_encryption import (
    KEY_A,
    PLAIN,
    reencrypt,
    stored_bot_token,
)
from tests.support.bot_harness import BotServer
from tests.support.localstripe_server import free_port


def serve_without_the_key(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="shh",
        SLACK_SIGNING_SECRET="signing",
        IDENTITY_VERIFICATION="email_code",
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", str(free_port()), "--no-scheduler"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.process
def test_serve_without_the_key_the_tokens_were_encrypted_with_refuses_to_start_in_one_line(
    installed: tuple[BotServer, SlackAPI], tmp_path: Path
) -> None:
    bot, slack = installed
    calls_before = len(slack.calls())
    result = serve_without_the_key(bot.settings.database_url, tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.strip().splitlines() if " INFO " not in line]  # alembic's start-up
    assert len(lines) == 1, result.stderr
    assert "encrypted" in lines[0] and "SLACK_TOKEN_ENCRYPTION_KEY is not set" in lines[0]
    assert "unencrypted" not in result.stderr and "Traceback" not in result.stderr
    assert all(not str(call.token or "").startswith("enc:") for call in slack.calls()[calls_before:])


def test_a_store_without_the_key_hands_out_no_ciphertext_as_a_token(
    installed: tuple[BotServer, SlackAPI],
) -> None:
    bot, _ = installed
    assert stored_bot_token(bot.settings.database_url, None) is None
    assert stored_bot_token(bot.settings.database_url, KEY_A) in PLAIN


def test_reencrypt_with_a_wrong_key_is_one_line_and_changes_nothing(
    installed: tuple[BotServer, SlackAPI],
) -> None:
    bot, _ = installed
    result = reencrypt(bot.settings.database_url, Fernet.generate_key().decode())
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot be decrypted" in lines[0] and "nothing was changed" in lines[0]
    assert stored_bot_token(bot.settings.database_url, KEY_A) in PLAIN  # still under the old key
