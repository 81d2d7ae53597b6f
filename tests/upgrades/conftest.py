"""The upgrade suites share the running stand-ins of the e2e suites."""

from tests.support.bot_fixtures import localstripe_server, slack  # noqa: F401
