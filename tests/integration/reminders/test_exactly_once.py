"""Each reminder goes out exactly once: racing sweeps, a crash mid-send, and Slack's rate limits."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypedDict, Unpack

import pytest

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.messaging import ChatContact, PostedMessage
from billing_core.reminders.messages import ReminderMessage, ReminderSender
from billing_core.reminders.schedule import ReminderSchedule
from billing_core.reminders.service import ReminderService
from bot.settings import Settings
from bot.slack.rate_limits import RateLimits
from bot.slack.reminder_sender import SlackReminderSender, build_reminder_sender
from devtools.loopback.slack_api import SlackAPI
from tests.integration.reminders.conftest import account, deliveries, dm_texts, invoice, utc

NOW = utc(2026, 11, 25, 12)  # Wednesday, 12:00 UTC
DUE = date(2026, 11, 25)


class ProcessDied(BaseException):
    """Stands for the process being killed between the claim and the send."""


class DyingSender:
    def __init__(self, inner: SlackReminderSender) -> None:
        self._inner = inner

    def find_contact(self, email: str) -> ChatContact | None:
        return self._inner.find_contact(email)

    def tell(self, contact: ChatContact, message: ReminderMessage) -> PostedMessage:
        raise ProcessDied()

    def update(self, posted: PostedMessage, message: ReminderMessage) -> None:
        self._inner.update(posted, message)


class ServiceOptions(TypedDict, total=False):
    """What a test may set on the reminder service besides its database, clock and sender."""

    sleep: Callable[[float], None] | None
    final_wait: float


def service(
    db: Database, clock: FixedClock, sender: ReminderSender, **options: Unpack[ServiceOptions]
) -> ReminderService:
    schedule = ReminderSchedule.of([-7, 0, 3, 7, 14], Settings(_env_file=None).timezone)
    return ReminderService(db=db, clock=clock, schedule=schedule, sender=sender, **options)


@pytest.fixture(autouse=True)
def at_noon(clock: FixedClock) -> None:
    clock.set(NOW)


def people(api: SlackAPI, count: int) -> list[tuple[str, str]]:
    contacts = []
    for n in range(count):
        email = f"p{n:04d}@acme.test"
        api.add_user(f"U{n:04d}", email, f"Person {n}", tz="UTC")
        contacts.append((email, f"Person {n}"))
    return contacts


def test_two_concurrent_sweeps_send_each_reminder_exactly_once(
    database_url: str, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    contacts = people(slack_api, 40)
    load(account("acme", contacts, [invoice("INV-1", DUE), invoice("INV-2", DUE - timedelta(days=3))]))
    slack_api.set_delay(0.005, "chat.postMessage")
    databases = [Database(database_url), Database(database_url)]
    sweepers = [service(db, clock, build_reminder_sender("xoxb-test", slack_api.base_url)) for db in databases]
    start = threading.Barrier(2)
    results = []

    def sweep(reminders: ReminderService) -> None:
        start.wait()
        results.append(reminders.run_sweep())

    threads = [threading.Thread(target=sweep, args=(s,)) for s in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for db in databases:
        db.dispose()

    sent_per_person = Counter(channel for channel, _ in dm_texts(slack_api))
    assert sum(r.sent for r in results) == 80  # 40 people x (step 0 DM for INV-1, step 3 DM for INV-2)
    assert len(sent_per_person) == 40 and set(sent_per_person.values()) == {2}
    assert all(d.status == "sent" for d in deliveries(databases[0]))


def test_a_crash_between_claim_and_send_is_retried_by_a_later_sweep(
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    load: Callable[..., None],
    reminders: ReminderService,
) -> None:
    load(account("acme", people(slack_api, 1), [invoice("INV-1", DUE)]))
    dying = service(db, clock, DyingSender(build_reminder_sender("xoxb-test", slack_api.base_url)))

    with pytest.raises(ProcessDied):
        dying.run_sweep()

    [claim] = deliveries(db)
    assert claim.status == "claimed" and dm_texts(slack_api) == []
    assert reminders.run_sweep().sent == 0  # a fresh claim may still be in flight elsewhere

    clock.set(NOW + timedelta(minutes=15))  # the next scheduled sweep, after the stale timeout
    assert reminders.expire_stale_claims() == 1
    assert [d.status for d in deliveries(db)] == ["failed"]
    assert reminders.run_sweep().sent == 1
    [sent] = deliveries(db)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert len(dm_texts(slack_api)) == 1
    assert reminders.run_sweep().sent == 0


def test_a_stale_claim_is_taken_over_even_without_the_clean_up_job(
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    load: Callable[..., None],
    reminders: ReminderService,
) -> None:
    load(account("acme", people(slack_api, 1), [invoice("INV-1", DUE)]))
    with pytest.raises(ProcessDied):
        service(db, clock, DyingSender(build_reminder_sender("xoxb-test", slack_api.base_url))).run_sweep()

    clock.set(NOW + timedelta(minutes=15))
    assert reminders.run_sweep().summary() == "sent 1, skipped 0, failed 0"


def test_a_429_with_retry_after_defers_that_dm_while_the_sweep_goes_on(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 3), [invoice("INV-1", DUE)]))
    slack_api.fail_next("chat.postMessage", status=429, retry_after=2)
    waits: list[float] = []
    reminders = service(db, clock, build_reminder_sender("xoxb-test", slack_api.base_url), sleep=waits.append)

    result = reminders.run_sweep()

    assert result.summary() == "sent 3, skipped 0, failed 0"
    attempts = [(c.json_args["channel"], c.status) for c in slack_api.calls("chat.postMessage")]
    # p0000 was rate limited; Retry-After holds for chat.postMessage in the whole workspace (issue
    # 28), so nobody there was sent anything more until it was over, then all three went, once each.
    assert attempts[0] == ("U0000", 429)  # posted to the user id: Slack's answer names the DM
    assert sorted(attempts[1:]) == [("U0000", 200), ("U0001", 200), ("U0002", 200)]
    assert waits and 0 < max(waits) <= 2


def test_a_dm_still_rate_limited_at_the_end_of_a_sweep_is_sent_by_the_next(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 1), [invoice("INV-1", DUE)]))
    slack_api.fail_next("chat.postMessage", status=429, retry_after=600)
    reminders = service(db, clock, build_reminder_sender("xoxb-test", slack_api.base_url), sleep=lambda _: None)

    first = reminders.run_sweep()
    assert (first.sent, first.postponed, first.failed) == (0, 1, 0)
    [waiting] = deliveries(db)
    assert (waiting.status, waiting.attempts) == ("failed", 0)  # given back untried

    clock.set(NOW + timedelta(minutes=15))
    # The next sweep (cron's next run-once, 15 minutes on): the Retry-After window is over. Windows
    # are kept in real time per process, so this sweep's process starts afresh.
    later = service(db, clock, build_reminder_sender("xoxb-test", slack_api.base_url), sleep=lambda _: None)
    assert later.run_sweep().sent == 1
    assert len(dm_texts(slack_api)) == 1


def test_two_dms_to_one_person_keep_to_one_message_per_second_per_channel(
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    load: Callable[..., None],
    reminders: ReminderService,
) -> None:
    slack_api.enforce_rate_limits(per_channel_interval=1.0, burst=1)
    load(account("acme", people(slack_api, 1), [invoice("INV-1", DUE), invoice("INV-2", DUE + timedelta(days=7))]))

    result = reminders.run_sweep()

    assert (result.sent, result.messages) == (2, 2)
    assert [c.status for c in slack_api.calls("chat.postMessage")] == [200, 200]  # never hit the limit


def test_a_big_sweep_under_rate_limits_loses_no_reminder_and_sends_none_twice(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 300), [invoice("INV-1", DUE)]))
    slack_api.enforce_rate_limits(per_channel_interval=1.0, burst=1)
    slack_api.fail_next("chat.postMessage", status=429, retry_after=1, count=7)
    slack_api.fail_next("chat.postMessage", status=500, count=2)
    # Exactly-once under 429s and 5xx, with the stand-in's per-channel limit only: no tier budgets
    # (300 new DMs in a minute would wait on conversations.open's Tier 3, see test_rate_limits.py).
    sender = build_reminder_sender("xoxb-test", slack_api.base_url, limits=RateLimits(per_minute={}))
    reminders = service(db, clock, sender, sleep=lambda _: None)

    first = reminders.run_sweep()
    clock.set(NOW + timedelta(minutes=15))
    second = reminders.run_sweep()  # retries the two that failed with a 5xx

    assert (first.sent, first.failed, second.sent) == (298, 2, 2)
    delivered = Counter(channel for channel, _ in dm_texts(slack_api))
    assert len(delivered) == 300 and set(delivered.values()) == {1}
