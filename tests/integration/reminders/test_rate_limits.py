"""Slack's limits kept per workspace and method (issue 28, item 4): after a 429 no call of that
method goes to that workspace inside its ``Retry-After`` window while other workspaces go on, and
no workspace is sent more than a method's tier allows. Over HTTP to the Slack Web API stand-in."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.errors import ChatRateLimited
from bot.slack.rate_limits import TIER_PER_MINUTE, WINDOW, RateLimits
from bot.slack.reminder_sender import SlackReminderSender, build_reminder_sender, reminder_client
from devtools.loopback.slack_api import SlackAPI
from tests.integration.reminders.conftest import account, invoice
from tests.integration.reminders.test_exactly_once import DUE, people, service


def lookups(api: SlackAPI, token: str) -> int:
    return len([c for c in api.calls("users.lookupByEmail") if c.token == token])


def sender(api: SlackAPI, team: str, limits: RateLimits) -> SlackReminderSender:
    token = f"xoxb-{team.lower()}"
    api.add_workspace(team, token)
    return SlackReminderSender(reminder_client(token, api.base_url), workspace=team, limits=limits)


def test_after_a_429_the_workspace_gets_no_more_lookups_until_retry_after_and_others_go_on(
    slack_api: SlackAPI,
) -> None:
    for n in range(10):
        slack_api.add_user(f"UA{n}", f"a{n}@acme.test", f"A {n}", team_id="TACME")
    slack_api.add_user("UB0", "b0@beta.test", "B 0", team_id="TBETA")
    limits = RateLimits()
    acme, beta = sender(slack_api, "TACME", limits), sender(slack_api, "TBETA", limits)
    slack_api.fail_next("users.lookupByEmail", status=429, retry_after=30)

    with pytest.raises(ChatRateLimited) as first:
        acme.find_contact("a0@acme.test")
    for n in range(1, 10):
        with pytest.raises(ChatRateLimited) as later:
            acme.find_contact(f"a{n}@acme.test")
        assert 0 < later.value.retry_after <= 30

    assert first.value.retry_after == 30
    assert lookups(slack_api, "xoxb-tacme") == 1  # none inside the Retry-After window
    assert beta.find_contact("b0@beta.test") is not None  # the other workspace goes on
    assert lookups(slack_api, "xoxb-tbeta") == 1


def test_no_workspace_is_sent_more_lookups_a_minute_than_tier_3_allows(slack_api: SlackAPI) -> None:
    budget = TIER_PER_MINUTE["users_lookupByEmail"]
    for n in range(budget + 5):
        slack_api.add_user(f"UA{n}", f"a{n}@acme.test", f"A {n}", team_id="TACME")
    now = [0.0]
    acme = sender(slack_api, "TACME", RateLimits(monotonic=lambda: now[0]))

    found = 0
    for n in range(budget + 5):
        with contextlib.suppress(ChatRateLimited):  # past the budget: refused here, Slack not called
            found += acme.find_contact(f"a{n}@acme.test") is not None
    assert found == budget and lookups(slack_api, "xoxb-tacme") == budget

    now[0] += WINDOW - 1.0  # the first call still counts in the window: still refused
    with pytest.raises(ChatRateLimited):
        acme.find_contact(f"a{budget}@acme.test")
    now[0] += 1.0  # a minute (and a second) after the first call, it has left the window
    assert acme.find_contact(f"a{budget}@acme.test") is not None
    assert lookups(slack_api, "xoxb-tacme") == budget + 1


def test_a_sweep_rate_limited_on_lookups_leaves_everyone_for_later_after_a_single_call(
    db: Database, slack_api: SlackAPI, clock: FixedClock, load: Callable[..., None]
) -> None:
    load(account("acme", people(slack_api, 100), [invoice("INV-1", DUE)]))
    slack_api.fail_next("users.lookupByEmail", status=429, retry_after=600)
    reminders = service(db, clock, build_reminder_sender("xoxb-test", slack_api.base_url), final_wait=0.0)

    result = reminders.run_sweep()

    assert (result.sent, result.postponed) == (0, 100)
    assert len(slack_api.calls("users.lookupByEmail")) == 1  # was 100: one per person, all refused
