"""Slack notifications go through the database outbox (issue 28, item 7): committed before they
are sent, so a restart loses none; sent once, even when an attempt's answer was lost.

Real parts: the Slack modes' composition (``build_runtime``) on a real database, its outbox and
delivery, the Slack Web API stand-in (which also answers ``conversations.history``)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord
from billing_core.money import Money
from billing_core.notifications import CardAdded, PaymentSettled
from billing_core.views import PaymentView
from bot.compose import SlackRuntime, build_runtime
from bot.settings import Settings
from bot.slack.notices import SlackNoticeChannel
from bot.slack.operator import InlineExecutor
from devtools.loopback.slack_api import SlackAPI

ANN = "slack:T111:WANN"


class StoppedProcess(Executor):
    """The process stopped right after the notice was committed: nothing it queued ever runs."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return Future()


@pytest.fixture
def settings(database_url: str, slack_api: SlackAPI) -> Settings:
    return Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=slack_api.base_url,
    )


def runtime(settings: Settings, db: Database, clock: FixedClock, executor: Executor) -> SlackRuntime:
    return build_runtime(settings, clock=clock, db=db, notifier_executor=executor)


def payment() -> PaymentView:
    return PaymentView(
        7,
        "acme",
        Money(125000, "usd"),
        "succeeded",
        datetime(2026, 11, 25, tzinfo=UTC),
        ("INV-1",),
        card_brand="visa",
        card_last4="4242",
    )


def dms(api: SlackAPI) -> list[str]:
    return [str(c.json_args.get("text")) for c in api.calls("chat.postMessage") if c.ok]


def statuses(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(OutboundEventRecord.status).where(OutboundEventRecord.channel == "slack")))


def test_a_payment_outcome_committed_before_a_restart_is_sent_once_after_it(
    settings: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI
) -> None:
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee")
    before = runtime(settings, db, clock, StoppedProcess())

    before.notifier.tell_principal(ANN, PaymentSettled("Acme Corp", payment()))

    assert dms(slack_api) == [] and statuses(db) == ["queued"]  # committed, not sent: then the restart
    after = runtime(settings, db, clock, InlineExecutor())
    assert after.services.outbound is not None
    assert after.services.outbound.deliver_due(clock.now() + timedelta(seconds=1)).delivered == 1
    [dm] = dms(slack_api)
    assert "Payment received" in dm and "$1,250.00" in dm
    assert after.services.outbound.deliver_due(clock.now() + timedelta(hours=1)).delivered == 0
    assert len(dms(slack_api)) == 1 and statuses(db) == ["delivered"]


def test_an_attempt_whose_answer_was_lost_is_not_posted_again(
    settings: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI
) -> None:
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee")
    bot = runtime(settings, db, clock, InlineExecutor())
    assert bot.services.outbound is not None
    channel = bot.services.outbound.channels["slack"]
    assert isinstance(channel, SlackNoticeChannel)
    channel.timeout = 1
    slack_api.set_delay(2, "chat.postMessage")  # Slack posts it, but the answer comes too late

    bot.notifier.tell_principal(ANN, CardAdded("Acme Corp", _card()))

    slack_api.wait_for("chat.postMessage", 1)  # it did reach the DM
    slack_api.set_delay(0, "chat.postMessage")
    assert statuses(db) == ["queued"]  # the first attempt did not know: a retry is due
    assert bot.services.outbound.deliver_due(clock.now() + timedelta(hours=1)).delivered == 1
    assert len(dms(slack_api)) == 1  # found by its metadata in the DM's history, not posted twice
    [posted] = [c for c in slack_api.calls("chat.postMessage") if c.ok]
    assert posted.json_args["metadata"]["event_type"] == "billing_notice"


def test_notices_are_posted_without_http_retries_of_their_own(
    settings: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI
) -> None:
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee")
    slack_api.fail_next("chat.postMessage", status=500)
    bot = runtime(settings, db, clock, InlineExecutor())

    bot.notifier.tell_principal(ANN, PaymentSettled("Acme Corp", payment()))

    assert len(slack_api.calls("chat.postMessage")) == 1  # one POST; the outbox retries later
    assert statuses(db) == ["queued"]


def _card() -> Any:
    from billing_core.views import PaymentMethodView

    return PaymentMethodView("pm_1", "visa", "4242", 12, 2030, is_default=True)
