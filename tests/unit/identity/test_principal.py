"""The principal grammar and whose claimed Slack e-mail is trusted (``billing_core.identity.principal``)."""

from __future__ import annotations

from billing_core.identity.principal import ClaimTrust, describe_principal, parse_principal, principal_for


def test_a_principal_round_trips_with_and_without_an_organization() -> None:
    for team, user, enterprise in (("T1", "U1", None), ("T1", "U1", "E1")):
        parsed = parse_principal(principal_for(team, user, enterprise))
        assert parsed is not None and (parsed.team_id, parsed.user_id, parsed.enterprise_id) == (team, user, enterprise)
    assert parse_principal("system:autopay") is None and parse_principal("slack:T1:") is None


def test_support_reads_a_principal_in_words() -> None:
    assert describe_principal("slack:E1:T1:U1") == "Slack user U1 in workspace T1 of organization E1"
    assert describe_principal("system:autopay") == "raised automatically by the bot"
    assert describe_principal("api:vendor") == "api:vendor"


def test_claims_are_trusted_by_workspace_or_organization_else_as_configured() -> None:
    named = ClaimTrust.of(["T1", "E2"], trust_all=False)
    assert named.trusts("slack:T1:U1") and named.trusts("slack:E2:T9:U1")
    assert not named.trusts("slack:T9:U1") and not named.trusts("system:autopay")
    assert ClaimTrust.of([], trust_all=True).trusts("slack:T9:U1")
    assert not ClaimTrust.of([], trust_all=False).trusts("slack:T9:U1")
