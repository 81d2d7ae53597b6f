"""Where a billing contact can be reached when the bot is installed in several workspaces."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.tables import PrincipalRecord
from billing_core.identity.directory import PrincipalDirectory
from billing_core.views import Actor
from bot.slack.seen_people import SeenPeople

ACCOUNTS = {
    "accounts": [
        {
            "id": "acme",
            "name": "Acme",
            "currency": "usd",
            "contacts": [{"email": "ann@acme.test", "name": "Ann"}, {"email": "bob@acme.test", "name": "Bob"}],
            "invoices": [],
        },
        {
            "id": "other",
            "name": "Other",
            "currency": "usd",
            "contacts": [{"email": "zed@other.test", "name": "Zed"}],
            "invoices": [],
        },
    ]
}


def test_a_contact_is_reached_where_they_last_used_the_bot_first(services: Services, clock: FixedClock) -> None:
    directory = PrincipalDirectory(services.db, clock)
    directory.record_seen("slack:T1:UANN", "ann@acme.test")
    clock.set(clock.now() + timedelta(hours=2))
    directory.record_seen("slack:T2:UANN2", "Ann@Acme.test")

    assert directory.reachable("ann@acme.test").own == ("slack:T2:UANN2", "slack:T1:UANN")


def test_colleagues_on_the_same_accounts_name_other_workspaces_and_strangers_do_not(
    services: Services, clock: FixedClock
) -> None:
    services.importer.run(ACCOUNTS)
    directory = PrincipalDirectory(services.db, clock)
    directory.record_seen("slack:T3:UBOB", "bob@acme.test")
    directory.record_seen("slack:T9:UZED", "zed@other.test")

    reachable = directory.reachable("ann@acme.test")
    assert reachable.own == () and reachable.colleagues == ("slack:T3:UBOB",)


def test_a_workspace_that_uninstalled_is_forgotten_and_no_other(services: Services, clock: FixedClock) -> None:
    directory = PrincipalDirectory(services.db, clock)
    directory.record_seen("slack:T1:UANN", "ann@acme.test")
    directory.record_seen("slack:T10:UANN", "ann@acme.test")  # "T1" is a prefix of "T10"'s text

    assert directory.forget("slack:T1:") == 1
    assert directory.reachable("ann@acme.test").own == ("slack:T10:UANN",)


def test_seeing_someone_again_soon_writes_nothing_new(services: Services, clock: FixedClock) -> None:
    directory = PrincipalDirectory(services.db, clock)
    directory.record_seen("slack:T1:UANN", "ann@acme.test")
    directory.record_seen("slack:T2:UANN", "ann@acme.test")
    clock.set(clock.now() + timedelta(minutes=5))
    directory.record_seen("slack:T1:UANN", "ann@acme.test")  # within the hour: order unchanged
    assert directory.reachable("ann@acme.test").own[0] == "slack:T2:UANN"


def test_people_seen_are_written_in_one_batch_off_the_request(services: Services, clock: FixedClock) -> None:
    directory = PrincipalDirectory(services.db, clock)
    seen = SeenPeople(directory, flush_seconds=3600)
    seen.saw(Actor(email="ann@acme.test", principal="slack:T1:UANN"))
    seen.saw(Actor(email="ann@acme.test", principal="slack:T2:UANN"))
    assert directory.reachable("ann@acme.test").own == ()  # not yet written

    seen.stop()  # flushes
    assert set(directory.reachable("ann@acme.test").own) == {"slack:T1:UANN", "slack:T2:UANN"}


def test_many_people_read_at_once_are_reached_as_one_by_one_with_those_who_proved_their_address(
    services: Services, clock: FixedClock
) -> None:
    services.importer.run(ACCOUNTS)
    directory = PrincipalDirectory(services.db, clock)
    directory.record_seen("slack:T1:UANN", "ann@acme.test")
    clock.set(clock.now() + timedelta(hours=2))
    directory.record_seen("slack:T2:UANN2", "ann@acme.test")
    directory.record_seen("slack:T3:UBOB", "bob@acme.test")
    directory.record_seen("slack:T9:UZED", "zed@other.test")
    with services.db.transaction() as session:  # Ann proved her address as UANN (a code)
        session.execute(
            update(PrincipalRecord)
            .where(PrincipalRecord.principal == "slack:T1:UANN")
            .values(verified_email="ann@acme.test")
        )
    emails = ["ann@acme.test", "Bob@Acme.test", "zed@other.test", "nobody@acme.test"]

    many = directory.reachable_many(emails)

    for email in emails:
        one = directory.reachable(email)
        assert (many[email.lower()].own, many[email.lower()].colleagues) == (one.own, one.colleagues)
    assert many["ann@acme.test"].own == ("slack:T2:UANN2", "slack:T1:UANN")
    assert many["ann@acme.test"].proven == {"slack:T1:UANN"} and many["bob@acme.test"].proven == set()
    assert many["bob@acme.test"].colleagues == ("slack:T2:UANN2", "slack:T1:UANN")
