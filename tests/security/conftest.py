"""Fixtures for the hardening tests: the e2e harness's running bot (uvicorn + signed requests,
localstripe behind a proxy, the Slack Web API stand-in), with a billing support channel set and a
way to wait until its lazy listeners are done."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from tests.e2e import conftest as e2e_fixtures
from tests.e2e.conftest import World
from tests.e2e.harness import ANN_ACTOR, PETER_ACTOR, BotServer, StripeHelper, wait_until
from tests.e2e.stripe_proxy import StripeProxy
from tests.support.localstripe_server import LocalStripe
from tests.support.slack_api import SlackAPI

STAFF_CHANNEL = "CSTAFF1"

localstripe_server = e2e_fixtures.localstripe_server
module_database_url = e2e_fixtures.module_database_url
slack = e2e_fixtures.slack
stripe_proxy = e2e_fixtures.stripe_proxy
world = e2e_fixtures.world


@pytest.fixture(scope="module")
def server(slack: SlackAPI, stripe_proxy: StripeProxy, module_database_url: str) -> Iterator[BotServer]:
    """The e2e bot, with a billing support channel so "Mark resolved" is live."""
    bot = BotServer(slack, stripe_proxy.base_url, module_database_url, SUPPORT_SLACK_CHANNEL=STAFF_CHANNEL).start()
    track_listeners(bot)
    yield bot
    bot.stop()


@pytest.fixture(scope="module")
def shared_world(server: BotServer, slack: SlackAPI, localstripe_server: LocalStripe,
                 stripe_proxy: StripeProxy) -> World:
    """The e2e ``world`` set up once per module, for tests that must change nothing anyway."""
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


class ListenerTracker:
    """Remembers every task handed to the Bolt app's listener pool (lazy listeners run there)."""

    def __init__(self) -> None:
        self.futures: list[Future[Any]] = []

    def idle(self) -> bool:
        return all(f.done() for f in list(self.futures))


def track_listeners(bot: BotServer) -> ListenerTracker:
    executor = bot.runtime.app.listener_runner.listener_executor
    tracker = ListenerTracker()
    submit = executor.submit

    def tracked(fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = submit(fn, *args, **kwargs)
        tracker.futures.append(future)
        return future

    executor.submit = tracked  # type: ignore[method-assign]
    bot.listeners = tracker  # type: ignore[attr-defined]
    return tracker


def wait_for_listeners(bot: BotServer, timeout: float = 15.0) -> None:
    """Until every lazy listener started so far has finished."""
    tracker: ListenerTracker = bot.listeners  # type: ignore[attr-defined]
    wait_until(tracker.idle, timeout, "the lazy listeners to finish")
