"""A reminder DM is never posted twice after a crash (issue 28, item 7): every reminder carries
metadata naming its delivery rows, and a claim taken over while an earlier attempt may have
posted it (a stale claim, or a post with no answer) is looked for in the person's DM first."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.reminders import claims
from bot.slack.reminder_sender import METADATA_TYPE, SlackReminderSender, build_reminder_sender
from devtools.loopback.slack_api import SlackAPI
from handlers.runtime.web_api import SlackWebClient
from tests.integration.reminders.conftest import account, deliveries, dm_channel, dm_texts, invoice
from tests.integration.reminders.test_exactly_once import DUE, NOW, DyingSender, ProcessDied, people, service


def sender(slack_api: SlackAPI) -> SlackReminderSender:
    return build_reminder_sender("xoxb-test", slack_api.base_url)


def dies_before_recording(*_args: Any, **_kwargs: Any) -> None:
    raise ProcessDied()


def test_first_claims_never_read_the_dm_and_each_post_names_its_delivery_rows(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 3), [invoice("INV-1", DUE)]))

    assert service(db, clock, sender(slack_api)).run_sweep().summary() == "sent 3, skipped 0, failed 0"

    assert slack_api.calls("conversations.history") == [] and slack_api.calls("conversations.open") == []
    posted = {c.json_args["metadata"]["event_payload"]["deliveries"] for c in slack_api.calls("chat.postMessage")}
    assert {c.json_args["metadata"]["event_type"] for c in slack_api.calls("chat.postMessage")} == {METADATA_TYPE}
    assert posted == {str(d.id) for d in deliveries(db)}


def test_a_sweep_that_died_after_posting_sends_nothing_the_second_time_and_records_the_first_posts(
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    load: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(account("acme", people(slack_api, 3), [invoice("INV-1", DUE)]))
    with monkeypatch.context() as crash:
        crash.setattr(claims, "record_outcomes", dies_before_recording)
        with pytest.raises(ProcessDied):
            service(db, clock, sender(slack_api)).run_sweep()
    first = {dm_channel(c): str(c.response["ts"]) for c in slack_api.calls("chat.postMessage") if c.response}
    assert len(first) == 3 and {d.status for d in deliveries(db)} == {"claimed"}

    clock.set(NOW + timedelta(minutes=15))  # past the stale-claim limit: the claims are taken over
    result = service(db, clock, sender(slack_api)).run_sweep()

    assert result.summary() == "sent 3, skipped 0, failed 0"  # recorded as the earlier attempt sent them
    assert len(dm_texts(slack_api)) == 3  # nothing posted the second time
    assert len(slack_api.calls("conversations.history")) == 3
    assert {(d.status, d.attempts) for d in deliveries(db)} == {("sent", 2)}
    assert {d.channel: d.message_ts for d in deliveries(db)} == first
    assert service(db, clock, sender(slack_api)).run_sweep().messages == 0


def test_a_stale_claim_whose_dm_never_went_out_is_posted_once(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 1), [invoice("INV-1", DUE)]))
    with pytest.raises(ProcessDied):
        service(db, clock, DyingSender(sender(slack_api))).run_sweep()  # died after claiming, before posting

    clock.set(NOW + timedelta(minutes=15))
    assert service(db, clock, sender(slack_api)).run_sweep().summary() == "sent 1, skipped 0, failed 0"

    assert len(slack_api.calls("conversations.history")) == 1  # looked first: not there
    [post] = slack_api.calls("chat.postMessage")
    [row] = deliveries(db)
    assert (row.status, row.attempts, row.message_ts) == ("sent", 2, (post.response or {})["ts"])
    assert post.json_args["metadata"]["event_payload"]["deliveries"] == str(row.id)


def test_a_post_that_timed_out_but_went_through_is_found_and_not_posted_again(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 1), [invoice("INV-1", DUE)]))
    slack_api.set_delay(1.5, "chat.postMessage")  # Slack posts it; the answer comes after the client gave up
    impatient = SlackReminderSender(
        SlackWebClient(token="xoxb-test", base_url=slack_api.base_url.rstrip("/") + "/", timeout=1, retry_handlers=[])
    )

    first = service(db, clock, impatient).run_sweep()
    assert first.summary() == "sent 0, skipped 0, failed 1"
    [row] = deliveries(db)
    assert row.status == "failed" and (row.error or "").startswith(claims.UNCONFIRMED)
    slack_api.set_delay(0, "chat.postMessage")
    deadline = time.monotonic() + 5
    while not dm_texts(slack_api) and time.monotonic() < deadline:  # the stand-in records it once answered
        time.sleep(0.05)

    clock.set(NOW + timedelta(minutes=15))
    assert service(db, clock, sender(slack_api)).run_sweep().summary() == "sent 1, skipped 0, failed 0"

    assert len(dm_texts(slack_api)) == 1
    [row] = deliveries(db)
    assert (row.status, row.message_ts) == ("sent", (slack_api.calls("chat.postMessage")[0].response or {})["ts"])


def test_a_definite_failure_is_retried_without_reading_the_dm(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 1), [invoice("INV-1", DUE)]))
    slack_api.fail_next("chat.postMessage", status=200, error="msg_too_long")
    assert service(db, clock, sender(slack_api)).run_sweep().summary() == "sent 0, skipped 0, failed 1"

    clock.set(NOW + timedelta(minutes=15))
    assert service(db, clock, sender(slack_api)).run_sweep().summary() == "sent 1, skipped 0, failed 0"

    assert slack_api.calls("conversations.history") == []
    assert len(dm_texts(slack_api)) == 1


def test_when_the_dm_cannot_be_read_a_stale_reminder_is_posted_rather_than_never_sent(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 1), [invoice("INV-1", DUE)]))
    with pytest.raises(ProcessDied):
        service(db, clock, DyingSender(sender(slack_api))).run_sweep()
    slack_api.fail_next("conversations.history", status=200, error="missing_scope")

    clock.set(NOW + timedelta(minutes=15))
    assert service(db, clock, sender(slack_api)).run_sweep().summary() == "sent 1, skipped 0, failed 0"

    assert [c.ok for c in slack_api.calls("conversations.history")] == [False]
    assert Counter(channel for channel, _ in dm_texts(slack_api)) == {"DU0000": 1}
