"""Slack's limits kept across processes (issue 28, item 4): several sweeps sharing one database,
each with its own sender (as separate replicas have), against a Slack stand-in that enforces the
tiers per (workspace, method) and answers 429 with ``Retry-After`` past them. No call is sent
inside a ``Retry-After`` window, no workspace gets more calls of a method in a window than its tier,
every DM goes out once; and a DM is posted to the person's user id (no ``conversations.open``).

The tiers here are small and their window short (5 ``users.info`` in 2 s), so a test sees budgets
run out and refill in seconds; the client's window is half a second longer, as in production.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.errors import ChatHandledElsewhere
from billing_core.identity.directory import PrincipalDirectory
from billing_core.reminders.service import ReminderService
from bot.settings import Settings
from bot.slack.oauth import installation_store
from bot.slack.rate_limits import RateLimits
from bot.slack.reminder_sender import WorkspacesReminderSender, reminder_client
from bot.slack.workspace_leases import Taken, WorkspaceLeases
from bot.slack.workspaces import SlackWorkspaces
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_tiers import SlackTiers
from tests.integration.reminders.conftest import account, deliveries, dm_channel, invoice
from tests.integration.reminders.test_exactly_once import DUE, service
from tests.support.many_workspaces import installation, prove, workspaces_settings

TEAMS = ("TONE", "TTWO", "TTHREE")
PER_TEAM = 8
STAND_IN_TIERS = {"users.info": 5, "users.lookupByEmail": 5, "chat.update": 5}
CLIENT_TIERS = {"users_info": 5, "users_lookupByEmail": 5, "chat_update": 5}


@pytest.fixture
def tiers(slack_api: SlackAPI) -> SlackTiers:
    enforced = SlackTiers(STAND_IN_TIERS, window=2.0, per_channel_interval=1.0)
    slack_api.enforce_tiers(enforced)
    return enforced


@pytest.fixture
def settings(database_url: str, slack_api: SlackAPI) -> Settings:
    return workspaces_settings(database_url, slack_api)


def install(
    settings: Settings, db: Database, slack_api: SlackAPI, load: Callable[..., None]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Three workspaces with 8 billing contacts each, every one proven where they use the bot, and
    one invoice due today; returns their user ids and the contacts."""
    store = installation_store(settings, db.engine)
    users, contacts = [], []
    for team in TEAMS:
        token = f"xoxb-{team.lower()}"
        store.save(installation(team, token))
        slack_api.add_workspace(team, token)
        for n in range(PER_TEAM):
            user, email = f"U{team}{n:02d}", f"{team.lower()}{n:02d}@acme.test"
            slack_api.add_user(user, email, f"{team} {n}", tz="UTC", team_id=team)
            prove(db, f"slack:{team}:{user}", email)
            users.append(user)
            contacts.append((email, f"{team} {n}"))
    load(account("acme", contacts, [invoice("INV-1", DUE)]))
    return users, contacts


def replica(
    settings: Settings,
    database_url: str,
    clock: FixedClock,
    limits: RateLimits | None = None,
    watch: Callable[[Any, str], Any] = lambda client, _token: client,
) -> tuple[ReminderService, Database]:
    """What one process has: its own database pool, installation cache, sender, budgets and leases
    (the small test tiers unless ``limits`` are given; each workspace's client as ``watch`` wraps it)."""
    db = Database(database_url)
    workspaces = SlackWorkspaces(
        store=installation_store(settings, db.engine),
        client_for_token=lambda token: watch(reminder_client(token, settings.slack_api_url), token),
    )
    sender = WorkspacesReminderSender(
        workspaces,
        PrincipalDirectory(db, clock),
        db=db,
        limits=limits or RateLimits(per_minute=CLIENT_TIERS, window=2.5),
    )
    return service(db, clock, sender), db


def sweep_together(replicas: list[ReminderService]) -> list[int]:
    start = threading.Barrier(len(replicas))
    sent: list[int] = []

    def sweep(reminders: ReminderService) -> None:
        start.wait()
        sent.append(reminders.run_sweep().messages)

    threads = [threading.Thread(target=sweep, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return sent


def test_two_replicas_sweeping_at_once_keep_every_tier_and_retry_after_and_send_each_dm_once(
    settings: Settings,
    database_url: str,
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    tiers: SlackTiers,
    load: Callable[..., None],
) -> None:
    users, _ = install(settings, db, slack_api, load)
    slack_api.set_delay(0.002)
    # Slack asks TONE to rest users.info for 2 s at the first call there, whoever makes it.
    tiers.refuse_next("TONE", "users.info", retry_after=2)
    pairs = [replica(settings, database_url, clock) for _ in range(2)]

    sent = sweep_together([reminders for reminders, _ in pairs])
    for _, own in pairs:
        own.dispose()

    delivered = Counter(dm_channel(c) for c in slack_api.calls("chat.postMessage") if c.ok)
    assert sum(sent) == len(users) == len(TEAMS) * PER_TEAM
    assert delivered == Counter({f"D{user}": 1 for user in users})  # every DM once
    assert tiers.inside_retry_after == 0  # no call inside a Retry-After window, from either replica
    assert tiers.over_tier() == []  # no workspace over its tier for any method
    assert tiers.peaks()["users.info"]["peak_per_minute"] == 5  # the budget was used, not exceeded
    assert all(d.status == "sent" for d in deliveries(db))


def test_a_replica_taking_over_a_workspace_counts_the_calls_the_previous_one_made_in_the_window(
    settings: Settings,
    database_url: str,
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    tiers: SlackTiers,
    load: Callable[..., None],
) -> None:
    users, contacts = install(settings, db, slack_api, load)
    first, first_db = replica(settings, database_url, clock)
    second, second_db = replica(settings, database_url, clock)

    first.run_sweep()  # ends with each workspace's users.info budget spent in the window, leases given back
    load(account("acme", contacts, [invoice("INV-1", DUE), invoice("INV-2", DUE)]))  # due: one more DM each
    second.run_sweep()  # at once, inside the first one's window: it must count those calls
    first_db.dispose()
    second_db.dispose()

    assert len([c for c in slack_api.calls("chat.postMessage") if c.ok]) == 2 * len(users)
    assert tiers.over_tier() == [] and tiers.inside_retry_after == 0


def test_a_reminder_is_posted_to_the_users_id_and_edited_in_the_dm_slack_answered_with(
    settings: Settings,
    database_url: str,
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    load: Callable[..., None],
) -> None:
    users, contacts = install(settings, db, slack_api, load)
    reminders, own = replica(settings, database_url, clock, RateLimits())  # Slack's real tiers

    reminders.run_sweep()
    load(account("acme", contacts, [invoice("INV-1", DUE, status="paid")]))
    reminders.run_sweep()  # "Paid, thank you": chat.update in the DM where the reminder is
    own.dispose()

    posts = [c for c in slack_api.calls("chat.postMessage") if c.ok]
    assert sorted(str(c.json_args["channel"]) for c in posts) == sorted(users)  # the user ids themselves
    assert slack_api.calls("conversations.open") == []  # one call per new person saved
    updates = slack_api.calls("chat.update")
    assert sorted(str(c.json_args["channel"]) for c in updates) == sorted(f"D{user}" for user in users)


def test_a_send_outside_a_sweep_gives_its_workspace_back_so_another_replicas_sweep_goes_on(
    settings: Settings,
    database_url: str,
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    tiers: SlackTiers,
    load: Callable[..., None],
) -> None:
    users, _ = install(settings, db, slack_api, load)
    notices, notices_db = replica(settings, database_url, clock)
    sweeper, sweeper_db = replica(settings, database_url, clock)
    assert notices.sender is not None
    contact = notices.sender.find_contact("tone00@acme.test")  # e.g. an autopay notice, in TONE

    result = sweeper.run_sweep()
    notices_db.dispose()
    sweeper_db.dispose()

    assert contact is not None and contact.workspace == "TONE"
    assert (result.messages, result.messages_elsewhere) == (len(users), 0)  # TONE was not held back
    assert tiers.over_tier() == [] and tiers.inside_retry_after == 0


def test_one_message_outside_a_sweep_goes_out_while_another_replicas_sweep_holds_the_workspace(
    settings: Settings,
    database_url: str,
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    tiers: SlackTiers,
    load: Callable[..., None],
) -> None:
    install(settings, db, slack_api, load)
    notices, notices_db = replica(settings, database_url, clock)
    sweeper, sweeper_db = replica(settings, database_url, clock)
    assert isinstance(notices.sender, WorkspacesReminderSender) and isinstance(sweeper.sender, WorkspacesReminderSender)
    try:
        with sweeper.sender.batch():  # the sweeper's sweep holds TONE
            assert sweeper.sender.find_contact("tone01@acme.test") is not None
            # e.g. the details after someone proved their e-mail, or an autopay notice, in TONE
            contact = notices.sender.find_contact("tone00@acme.test")
            assert contact is not None and contact.workspace == "TONE"
            with notices.sender.batch(), pytest.raises(ChatHandledElsewhere):
                notices.sender.find_contact("tone02@acme.test")  # a sweep leaves TONE to its holder
    finally:
        notices_db.dispose()
        sweeper_db.dispose()
    assert tiers.over_tier() == [] and tiers.inside_retry_after == 0


class InFlight:
    """Web API calls under way, by workspace token: the most at once in all and in any one workspace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now: Counter[str] = Counter()
        self.most = 0
        self.most_in_one = 0

    def watch(self, client: Any, token: str) -> Any:
        meter = self

        class Watched:
            def __getattr__(self, name: str) -> Any:
                method = getattr(client, name)
                if not callable(method):
                    return method

                def call(**arguments: Any) -> Any:
                    with meter._lock:
                        meter._now[token] += 1
                        meter.most = max(meter.most, sum(meter._now.values()))
                        meter.most_in_one = max(meter.most_in_one, meter._now[token])
                    try:
                        return method(**arguments)
                    finally:
                        with meter._lock:
                            meter._now[token] -= 1

                return call

        return Watched()


def test_a_sweep_sends_in_several_workspaces_at_once_but_one_call_at_a_time_in_each_and_each_dm_once(
    settings: Settings,
    database_url: str,
    db: Database,
    slack_api: SlackAPI,
    clock: FixedClock,
    tiers: SlackTiers,
    load: Callable[..., None],
) -> None:
    users, _ = install(settings, db, slack_api, load)
    slack_api.set_delay(0.01)  # each call takes a while: a sequential sender would never overlap two
    meter = InFlight()
    reminders, own = replica(settings, database_url, clock, watch=meter.watch)

    result = reminders.run_sweep()
    own.dispose()

    delivered = Counter(dm_channel(c) for c in slack_api.calls("chat.postMessage") if c.ok)
    assert result.messages == len(users) and delivered == Counter({f"D{user}": 1 for user in users})
    assert meter.most > 1  # other workspaces went on while one was called
    assert meter.most_in_one == 1  # never two calls at once in one workspace: its budget stays exact
    assert tiers.over_tier() == [] and tiers.inside_retry_after == 0
    assert all(d.status == "sent" for d in deliveries(db))


def test_a_sweep_takes_the_leases_nobody_held_together_and_leaves_those_another_process_holds(
    database_url: str, db: Database
) -> None:
    dbs = [Database(database_url), Database(database_url)]  # two processes' pools
    first = WorkspaceLeases(dbs[0], holder="elsewhere:1:a")
    second = WorkspaceLeases(dbs[1], holder="elsewhere:2:b")
    try:
        assert first.hold("TONE") == Taken()  # first to send in TONE

        taken = second.hold_many(["TONE", "TTWO", "TTHREE", "TTWO"])

        assert taken == {"TTWO": Taken(), "TTHREE": Taken()}  # one statement for both, nothing to inherit
        assert second.hold("TTWO") is None and second.hold("TTHREE") is None  # already held: no query
        with pytest.raises(ChatHandledElsewhere):
            second.hold("TONE")  # the other process's
        with pytest.raises(ChatHandledElsewhere):
            first.hold("TTWO")
        assert second.hold_many(["TTWO"]) == {}  # held already
    finally:
        first.release_all()
        second.release_all()
        for own in dbs:
            own.dispose()
