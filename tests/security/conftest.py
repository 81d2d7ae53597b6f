"""Fixtures for the hardening tests: the e2e suite's running bot (uvicorn + signed requests,
localstripe behind a proxy, the Slack Web API stand-in), with a billing support channel set."""

from __future__ import annotations

import pytest

from tests.support.bot_fixtures import (  # noqa: F401
    localstripe_server,
    module_database_url,
    server,
    shared_world,
    slack,
    stripe_proxy,
    world,
)

STAFF_CHANNEL = "CSTAFF1"


@pytest.fixture(scope="module")
def bot_overrides() -> dict[str, str]:
    """A billing support channel, so "Mark resolved" is live."""
    return {"SUPPORT_SLACK_CHANNEL": STAFF_CHANNEL}
