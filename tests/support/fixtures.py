"""Plain pytest fixtures over the stand-ins in :mod:`tests.support`.

Registered for every test by ``pytest_plugins`` in tests/conftest.py: name them, do not import them.

Fixtures:

* ``localstripe_server`` (session): one :class:`LocalStripe` subprocess for the run.
* ``localstripe`` (function): the same server, emptied (``reset()``) before the test.
* ``slack_api`` (function): a started :class:`SlackAPI`, stopped afterwards.
* ``smtp_sink`` (function): a started :class:`SmtpSink` without AUTH.
* ``http_receiver`` (function): a started :class:`HttpReceiver` (webhook target).
* ``postgres_url`` (session): URL of a fresh database on ``$TEST_DATABASE_URL``,
  dropped at the end; the test is skipped when the variable is unset.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.loopback.slack_api import SlackAPI
from devtools.postgres import base_url_from_env, fresh_database
from tests.support.http_receiver import HttpReceiver
from tests.support.localstripe_server import LocalStripe
from tests.support.smtp_sink import SmtpSink

__all__ = [
    "http_receiver",
    "localstripe",
    "localstripe_server",
    "postgres_url",
    "slack_api",
    "smtp_sink",
]


@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[LocalStripe]:
    """One localstripe subprocess (127.0.0.1, no state file) for the whole session."""
    server = LocalStripe().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def localstripe(localstripe_server: LocalStripe) -> LocalStripe:
    """The session's localstripe with all objects deleted (webhooks stay registered)."""
    localstripe_server.reset()
    return localstripe_server


@pytest.fixture
def slack_api() -> Iterator[SlackAPI]:
    """A running Slack Web API stand-in; ``slack_api.base_url`` is the ``SLACK_API_URL``."""
    with SlackAPI() as api:
        yield api


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running SMTP sink; ``smtp_sink.url`` is the ``SMTP_URL``."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A running request recorder (e.g. a Stripe webhook target)."""
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session; skips without ``TEST_DATABASE_URL``."""
    base = base_url_from_env()
    if base is None:
        pytest.skip("TEST_DATABASE_URL is not set (run .ci/postgres.sh)")
    with fresh_database(base) as url:
        yield url
