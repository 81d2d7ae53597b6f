"""Slack user -> Actor, with a time-to-live cache, against the Web API stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from handlers.identity.resolver import IdentityResolver, parse_principal, principal_for
from tests.support.slack_api import SlackAPI


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    with SlackAPI() as stand_in:
        stand_in.add_user("W1", "Ann@Acme.test", "Ann Lee")
        stand_in.add_user("W2", None, "No Email")
        stand_in.add_user("B1", "bot@acme.test", "A Bot", is_bot=True)
        yield stand_in


def client(api: SlackAPI) -> WebClient:
    return WebClient(token="xoxb-t", base_url=api.base_url)


def test_the_email_slack_holds_becomes_the_actor(api: SlackAPI) -> None:
    actor = IdentityResolver().resolve(client(api), "T1", "W1")
    assert actor is not None
    assert (actor.email, actor.principal, actor.display_name) == ("Ann@Acme.test", "slack:T1:W1", "Ann Lee")


def test_no_visible_email_bots_and_unknown_users_are_nobody(api: SlackAPI) -> None:
    resolver = IdentityResolver()
    assert resolver.resolve(client(api), "T1", "W2") is None
    assert resolver.resolve(client(api), "T1", "B1") is None
    assert resolver.resolve(client(api), "T1", "W404") is None


def test_lookups_are_cached_until_the_ttl_passes(api: SlackAPI) -> None:
    now = [100.0]
    resolver = IdentityResolver(ttl_seconds=60, monotonic=lambda: now[0])
    for _ in range(3):
        resolver.resolve(client(api), "T1", "W1")
    assert len(api.calls("users.info")) == 1
    now[0] += 61
    resolver.resolve(client(api), "T1", "W1")
    assert len(api.calls("users.info")) == 2


def test_a_failed_lookup_is_not_cached(api: SlackAPI) -> None:
    resolver = IdentityResolver()
    api.fail_next("users.info", status=500)
    assert resolver.resolve(client(api), "T1", "W1") is None
    assert resolver.resolve(client(api), "T1", "W1") is not None


def test_principals_round_trip() -> None:
    assert parse_principal(principal_for("T1", "U1")) == ("T1", "U1")
    assert parse_principal("cli:ops") is None
    assert parse_principal("slack::U1") is None
