"""One running bot per test module; each test starts from the sample accounts and fresh cards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from billing_core.db.database import Database
from tests.e2e.harness import (
    ANN,
    ANN_ACTOR,
    HIDDEN,
    PETER,
    PETER_ACTOR,
    STRANGER,
    BotServer,
    StripeHelper,
)
from tests.e2e.stripe_proxy import StripeProxy
from tests.support.fixtures import localstripe_server  # noqa: F401
from tests.support.localstripe_server import LocalStripe
from tests.support.slack_api import SlackAPI


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackAPI]:
    with SlackAPI() as api:
        api.add_user(ANN, "Ann@Acme.test", "Ann Lee")
        api.add_user(PETER, "peter@initech.test", "Peter Gibbons")
        api.add_user(STRANGER, "someone@elsewhere.test", "Sam Stranger")
        api.add_user(HIDDEN, None, "Hidden Email")
        yield api


@pytest.fixture(scope="module")
def stripe_proxy(localstripe_server: LocalStripe) -> Iterator[StripeProxy]:  # noqa: F811
    proxy = StripeProxy(localstripe_server.base_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str | None) -> str:
    url = postgres_server_url or f"sqlite:///{Path(tmp_path_factory.mktemp('e2e')) / 'billing.db'}"
    database = Database(url)
    database.upgrade()
    database.dispose()
    return url


@pytest.fixture(scope="module")
def server(slack: SlackAPI, stripe_proxy: StripeProxy, module_database_url: str) -> Iterator[BotServer]:
    bot = BotServer(slack, stripe_proxy.base_url, module_database_url).start()
    yield bot
    bot.stop()


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


@pytest.fixture
def world(server: BotServer, slack: SlackAPI, localstripe_server: LocalStripe,  # noqa: F811
          stripe_proxy: StripeProxy) -> World:
    """Sample accounts; Acme and Initech each have a Stripe customer with a default Visa."""
    stripe_proxy.release()
    localstripe_server.reset()
    server.reset()
    helper = StripeHelper(localstripe_server)
    acme, initech = helper.customer("ann@acme.test"), helper.customer("peter@initech.test")
    server.give_customer("acme", acme)
    server.give_customer("initech", initech)
    acme_card, initech_card = helper.card(acme), helper.card(initech)
    server.services.payment_methods.make_default(ANN_ACTOR, "acme", acme_card)
    server.services.payment_methods.make_default(PETER_ACTOR, "initech", initech_card)
    slack.clear()
    stripe_proxy.calls.clear()
    return World(server, slack, helper, stripe_proxy, acme, acme_card, initech, initech_card)
