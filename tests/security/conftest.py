"""Fixtures for the hardening tests: the e2e suite's running bot (uvicorn + signed requests,
localstripe behind a proxy, the Slack Web API stand-in), with a billing support channel set."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from bot.compose import build_runtime
from bot.web.http import create_http_app
from devtools.loopback.slack_api import SlackAPI
from handlers.kit.identity import IdentityResolver
from tests.security.full_run import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SMTP_PASSWORD,
    SMTP_USER,
    STRIPE_KEY,
    WEBHOOK_SECRET,
    FullRun,
)
from tests.security.test_oauth_install_policy import install, oauth_bot
from tests.security.test_token_encryption import KEY_A, oauth_access
from tests.support.bot_harness import BotServer, bot_settings
from tests.support.localstripe_server import LocalStripe
from tests.support.sample_accounts import ANN_ID, PETER_ID, SAMPLE
from tests.support.smtp_sink import SmtpSink
from tests.support.stripe_helper import StripeHelper, give_sample_cards

STAFF_CHANNEL = "CSTAFF1"


@pytest.fixture(scope="module")
def bot_overrides() -> dict[str, str]:
    """A billing support channel, so "Mark resolved" is live."""
    return {"SUPPORT_SLACK_CHANNEL": STAFF_CHANNEL}


@pytest.fixture
def full_run(
    database_url: str,
    db: Database,
    clock: FixedClock,
    localstripe_server: LocalStripe,
) -> Iterator[FullRun]:
    localstripe_server.reset()
    with SlackAPI() as slack, SmtpSink(username=SMTP_USER, password=SMTP_PASSWORD) as smtp:
        slack.add_user(ANN_ID, "ann@acme.test", "Ann Lee")
        slack.add_user(PETER_ID, "peter@initech.test", "Peter Gibbons")
        settings = bot_settings(
            slack,
            localstripe_server.base_url,
            database_url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            STRIPE_API_KEY=STRIPE_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            SMTP_URL=f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{smtp.port}",
            SMTP_FROM="billing-bot@vendor.test",
            SUPPORT_EMAIL="support@vendor.test",
        )
        runtime = build_runtime(settings, clock=clock, db=db, identity=IdentityResolver())
        runtime.services.importer.run(SAMPLE)
        helper = StripeHelper(localstripe_server, api_key=STRIPE_KEY)
        cards = give_sample_cards(runtime.services, db, helper, initech_default=False)
        with TestClient(create_http_app(runtime.services, settings, runtime.app)) as http:
            yield FullRun(http, runtime, settings, slack, smtp, helper.client, db, cards.acme_card, cards.initech_card)
        runtime.notifier.shutdown()


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG and above, through the handler the CLI installs."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "_billing_bot", False):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[tuple[BotServer, SlackAPI]]:
    bot, slack = oauth_bot(
        tmp_path,
        SLACK_TOKEN_ENCRYPTION_KEY=KEY_A,
        IDENTITY_VERIFICATION="slack_email",
        SLACK_EMAIL_TRUSTED_TEAMS="T111",
    )
    slack.set_handler("oauth.v2.access", oauth_access)
    assert install(bot, "T111") == 200
    yield bot, slack
    bot.stop()
    slack.stop()
