"""Slack notifications go through the database outbox (issue 28, item 7): committed before they
are sent, so a restart loses none; sent once, even when an attempt's answer was lost.

Real parts: the Slack modes' composition (``build_runtime``) on a real database, its outbox and
delivery, the Slack Web API stand-in (which also answers ``conversations.history``)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord, PaymentRecord
from billing_core.money import Money
from billing_core.notifications import CardAdded, PaymentFollowUp, PaymentSettled
from billing_core.views import PaymentView
from bot.compose import SlackRuntime, build_runtime
from bot.settings import Settings
from bot.slack.notices import SlackNoticeChannel
from bot.slack.operator import InlineExecutor
from devtools.loopback.slack_api import SlackAPI
from tests.support.payment_rows import add_account, add_payment

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


def annes_payment(db: Database, clock: FixedClock) -> int:
    """A succeeded payment Ann made, in the database."""
    payment_id = add_payment(db, add_account(db), created_at=clock.now(), invoices=("INV-1",), amount_minor=125000)
    with db.transaction() as session:
        session.execute(update(PaymentRecord).where(PaymentRecord.id == payment_id).values(started_by_principal=ANN))
    return payment_id


def test_a_refund_notice_replies_in_the_receipt_thread_and_a_retry_after_a_lost_answer_posts_it_once(
    settings: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI
) -> None:
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee")
    paid = replace(payment(), id=annes_payment(db, clock))
    bot = runtime(settings, db, clock, InlineExecutor())
    assert bot.services.outbound is not None
    bot.notifier.tell_principal(ANN, PaymentSettled("Acme Corp", paid))
    [receipt] = [c for c in slack_api.calls("chat.postMessage") if c.ok]
    assert receipt.response is not None
    channel = bot.services.outbound.channels["slack"]
    assert isinstance(channel, SlackNoticeChannel)
    channel.timeout = 1
    slack_api.set_delay(2, "chat.postMessage")  # Slack posts the reply, but the answer comes too late

    refunded = replace(paid, state="refunded", refunded=paid.amount)
    bot.notifier.tell_principal(ANN, PaymentFollowUp("Acme Corp", refunded))

    slack_api.wait_for("chat.postMessage", 2)
    slack_api.set_delay(0, "chat.postMessage")
    assert bot.services.outbound.deliver_due(clock.now() + timedelta(hours=1)).delivered == 1
    replies = [c for c in slack_api.calls("chat.postMessage") if c.ok and c.json_args.get("thread_ts")]
    assert len(replies) == 1  # found in the thread's replies by its metadata, not posted twice
    assert replies[0].json_args["thread_ts"] == receipt.response["ts"]
    assert replies[0].json_args["channel"] == receipt.response["channel"]
    assert "Refunded" in str(replies[0].json_args["text"])


def _card() -> Any:
    from billing_core.views import PaymentMethodView

    return PaymentMethodView("pm_1", "visa", "4242", 12, 2030, is_default=True)


def test_a_refund_notice_whose_receipt_message_is_gone_goes_to_the_dm_as_a_new_message(
    settings: Settings, db: Database, clock: FixedClock, slack_api: SlackAPI
) -> None:
    slack_api.add_user("WANN", "ann@acme.test", "Ann Lee")
    payment_id = annes_payment(db, clock)
    with db.transaction() as session:  # a receipt DM Slack no longer has (deleted)
        session.execute(
            update(PaymentRecord)
            .where(PaymentRecord.id == payment_id)
            .values(receipt_dm_channel="DWANN", receipt_dm_ts="1.000001")
        )
    bot = runtime(settings, db, clock, InlineExecutor())

    paid = replace(payment(), id=payment_id)
    bot.notifier.tell_principal(
        ANN, PaymentFollowUp("Acme Corp", replace(paid, state="refunded", refunded=paid.amount))
    )

    [told] = [c for c in slack_api.calls("chat.postMessage") if c.ok]
    assert told.json_args["channel"] == "DWANN" and "thread_ts" not in told.json_args
    assert "Refunded" in str(told.json_args["text"]) and statuses(db) == ["delivered"]
