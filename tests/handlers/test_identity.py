"""Slack user -> Actor, with a time-to-live cache, against the Web API stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from billing_core.identity.principal import SlackPrincipal, parse_principal, principal_for
from devtools.loopback.slack_api import SlackAPI
from handlers.kit.identity import IdentityResolver, actor_from_slack_user


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
    actor = IdentityResolver().resolve(client(api), api.team_id, "W1")
    assert actor is not None
    assert (actor.email, actor.principal, actor.display_name) == ("Ann@Acme.test", "slack:T111:W1", "Ann Lee")
    assert not actor.external


def test_a_user_of_another_workspace_is_external_and_keyed_by_their_own_workspace(api: SlackAPI) -> None:
    actor = IdentityResolver().resolve(client(api), "THOST", "W1")  # reached us through THOST's install
    assert actor is not None and actor.external
    assert actor.principal == f"slack:{api.team_id}:W1"


def test_a_stranger_is_external_even_in_the_same_workspace() -> None:
    user = {"id": "W9", "team_id": "T1", "is_stranger": True, "profile": {"email": "eve@evil.test"}}
    actor = actor_from_slack_user(user, "T1", "W9")
    assert actor is not None and actor.external


def test_a_grid_user_is_keyed_by_the_organization_and_the_workspace_they_used() -> None:
    user = {
        "id": "W1",
        "team_id": "T1",
        "enterprise_user": {"enterprise_id": "E1"},
        "profile": {"email": "ann@acme.test"},
    }
    actor = actor_from_slack_user(user, "T2", "W1", "E1")  # same organization, another of its workspaces
    assert actor is not None and not actor.external
    assert actor.principal == "slack:E1:T2:W1"
    outsider = actor_from_slack_user(user, "T9", "W1", "E9")  # a shared channel from another organization
    assert outsider is not None and outsider.external and outsider.principal == "slack:E1:T1:W1"


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
    assert parse_principal(principal_for("T1", "U1")) == SlackPrincipal("T1", "U1")
    assert parse_principal(principal_for("T1", "U1", "E1")) == SlackPrincipal("T1", "U1", "E1")
    assert parse_principal("cli:ops") is None
    assert parse_principal("slack::U1") is None
    assert parse_principal("slack:E1::T1:U1") is None


def test_each_person_looked_up_in_slack_is_reported_once_per_ttl(api: SlackAPI) -> None:
    seen: list[str] = []
    resolver = IdentityResolver(on_resolved=lambda actor: seen.append(actor.principal))
    for _ in range(3):
        resolver.resolve(client(api), api.team_id, "W1")
    resolver.resolve(client(api), api.team_id, "W2")  # no e-mail visible: nobody to report
    assert seen == [f"slack:{api.team_id}:W1"]
