"""The e2e and security suites' fixtures: one running bot per test module, and the sample world.

Registered for every test by ``pytest_plugins`` in tests/conftest.py: name them, do not import them.

* ``slack`` (module): the Slack Web API stand-in with Ann, Peter, a stranger and a hidden e-mail.
* ``stripe_proxy`` (module): the delaying proxy in front of the session's localstripe.
* ``server`` (module): :class:`BotServer` on them; a conftest overrides ``bot_overrides`` to set more.
* ``world`` (function) / ``shared_world`` (module): the sample accounts; Acme and Initech each
  have a Stripe customer with a default Visa.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from billing_core.db.database import Database
from devtools.loopback.slack_api import SlackAPI
from tests.support.bot_harness import BotServer, wait_for_listeners
from tests.support.localstripe_server import LocalStripe
from tests.support.sample_accounts import ANN_ID, HIDDEN_ID, PETER_ID, STRANGER_ID
from tests.support.stripe_helper import StripeHelper, give_sample_cards
from tests.support.stripe_proxy import StripeProxy
from tests.support.template_db import migrated_sqlite_url

__all__ = [
    "World",
    "bot_overrides",
    "module_database_url",
    "server",
    "shared_world",
    "slack",
    "stripe_proxy",
    "world",
]


@dataclass
class World:
    bot: BotServer
    slack: SlackAPI
    stripe: StripeHelper
    proxy: StripeProxy
    acme_customer: str
    acme_card: str
    initech_customer: str
    initech_card: str


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackAPI]:
    with SlackAPI() as api:
        api.add_user(ANN_ID, "Ann@Acme.test", "Ann Lee")
        api.add_user(PETER_ID, "peter@initech.test", "Peter Gibbons")
        api.add_user(STRANGER_ID, "someone@elsewhere.test", "Sam Stranger")
        api.add_user(HIDDEN_ID, None, "Hidden Email")
        yield api


@pytest.fixture(scope="module")
def stripe_proxy(localstripe_server: LocalStripe) -> Iterator[StripeProxy]:
    with StripeProxy(localstripe_server.base_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str | None) -> str:
    if postgres_server_url is None:
        return migrated_sqlite_url(Path(tmp_path_factory.mktemp("e2e")) / "billing.db")
    database = Database(postgres_server_url)
    database.upgrade()
    database.dispose()
    return postgres_server_url


@pytest.fixture(scope="module")
def bot_overrides() -> dict[str, str]:
    """Settings the module's bot runs with beyond the harness's (override in a conftest)."""
    return {}


@pytest.fixture(scope="module")
def server(
    slack: SlackAPI, stripe_proxy: StripeProxy, module_database_url: str, bot_overrides: dict[str, str]
) -> Iterator[BotServer]:
    with BotServer(slack, stripe_proxy.base_url, module_database_url, **bot_overrides) as bot:
        yield bot


def sample_world(server: BotServer, slack: SlackAPI, localstripe: LocalStripe, proxy: StripeProxy) -> World:
    """Sample accounts; Acme and Initech each have a Stripe customer with a default Visa."""
    # A background check left by the test before (the card list's, with Stripe) ends first: it
    # must not write an old account's cards into the new world.
    wait_for_listeners(server)
    proxy.reset()
    localstripe.reset()
    server.reset()
    helper = StripeHelper(localstripe)
    cards = give_sample_cards(server.services, server.db, helper)
    slack.clear()
    proxy.reset()
    return World(
        server, slack, helper, proxy, cards.acme_customer, cards.acme_card, cards.initech_customer, cards.initech_card
    )


@pytest.fixture
def world(server: BotServer, slack: SlackAPI, localstripe_server: LocalStripe, stripe_proxy: StripeProxy) -> World:
    """The sample world, set up afresh for the test."""
    return sample_world(server, slack, localstripe_server, stripe_proxy)


@pytest.fixture(scope="module")
def shared_world(
    server: BotServer, slack: SlackAPI, localstripe_server: LocalStripe, stripe_proxy: StripeProxy
) -> World:
    """The sample world set up once per module, for tests that must change nothing anyway."""
    return sample_world(server, slack, localstripe_server, stripe_proxy)
