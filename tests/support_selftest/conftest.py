"""Fixtures for the self-tests of tests/support."""

from tests.support.fixtures import (  # noqa: F401
    http_receiver,
    localstripe,
    localstripe_server,
    postgres_url,
    slack_api,
    smtp_sink,
)
