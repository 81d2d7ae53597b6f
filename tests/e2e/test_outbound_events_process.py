"""Outbound events from a real ``billing-bot serve --no-scheduler`` process: a Pay click reaches the
vendor's receiver within seconds, and an event whose process was killed with ``kill -9`` after
the payment committed is delivered by the next process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord
from devtools.loopback.slack_api import SlackAPI
from tests.support.bot_harness import wait_until
from tests.support.event_receiver import EventReceiver
from tests.support.localstripe_server import LocalStripe
from tests.support.serve_process import pay_invoice_body, prepare_sample_database, serve_env, start_serve

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process

SECRET = "whsec_vendor_erp"


@pytest.fixture
def url(tmp_path: Path, postgres_server_url: str | None) -> str:
    return postgres_server_url or f"sqlite:///{tmp_path / 'outbound.db'}"


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with EventReceiver(SECRET) as server:
        yield server


LEASE_SECONDS = "3"  # the dead process's claim runs out in 3 s instead of production's 30 s


def env_for(url: str, slack: SlackAPI, localstripe: LocalStripe, receiver: EventReceiver) -> dict[str, str]:
    return serve_env(
        url,
        slack.base_url,
        localstripe.base_url,
        OUTBOUND_WEBHOOK_URL=receiver.url("/erp/hooks"),
        OUTBOUND_WEBHOOK_SECRET=SECRET,
        OUTBOUND_LEASE_SECONDS=LEASE_SECONDS,
    )


def statuses(url: str) -> list[str]:
    db = Database(url)
    try:
        with db.read() as session:
            return list(session.scalars(select(OutboundEventRecord.status)))
    finally:
        db.dispose()


def test_a_pay_click_reaches_the_receiver_signed_within_ten_seconds_without_a_scheduler(
    tmp_path: Path, url: str, slack: SlackAPI, localstripe_server: LocalStripe, receiver: EventReceiver
) -> None:
    card = prepare_sample_database(url, localstripe_server)
    process = start_serve(env_for(url, slack, localstripe_server, receiver), tmp_path)
    try:
        assert process.post_slack(pay_invoice_body(card)).status_code == 200
        [event] = receiver.wait_acknowledged(1, timeout=15)
    finally:
        process.stop()
    assert event["type"] == "payment.succeeded"
    assert event["data"]["invoices"] == "INV-1" and event["data"]["amount"] == 125000
    assert event["data"]["paid_by"] == "ann@acme.test" and event["data"]["source"] == "slack"
    assert all(r.signature_ok for r in receiver.received)
    assert "whsec_vendor_erp" not in process.log_text()


def test_an_event_whose_process_was_killed_before_delivery_is_delivered_once_after_restart(
    tmp_path: Path, url: str, slack: SlackAPI, localstripe_server: LocalStripe, receiver: EventReceiver
) -> None:
    card = prepare_sample_database(url, localstripe_server)
    env = env_for(url, slack, localstripe_server, receiver)
    receiver.script("hold")  # the first attempt never gets an answer: the process dies meanwhile
    first = start_serve(env, tmp_path, name="first")
    try:
        assert first.post_slack(pay_invoice_body(card)).status_code == 200
        receiver.log.wait_until(lambda entries: entries, 15, lambda _: "the first attempt never came")
    finally:
        first.kill()
    receiver.release()
    assert statuses(url) == ["sending"]  # committed with the payment, its delivery cut short

    second = start_serve(env, tmp_path, name="second")
    try:
        [event] = receiver.wait_acknowledged(1, timeout=60)  # once the dead process's lease runs out
        wait_until(lambda: statuses(url) == ["delivered"], 10, "the event to be marked delivered")
    finally:
        second.stop()
    assert event["type"] == "payment.succeeded"
    assert {r.event["id"] for r in receiver.received} == {event["id"]}
    assert len(receiver.acknowledged()) == 1
