"""The principal: the opaque string naming who acts, stored with every identity link and request.

A Slack user is ``slack:<team>:<user>``, or for a user of an Enterprise Grid organization
``slack:<enterprise>:<team>:<user>``; the bot itself acts as ``system:<job>``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


def principal_for(team_id: str, user_id: str, enterprise_id: str | None = None) -> str:
    """The opaque principal naming a Slack user: ``slack:<team>:<user>``, and for a user of an
    Enterprise Grid organization ``slack:<enterprise>:<team>:<user>`` (its installation may be
    the organization's)."""
    if enterprise_id:
        return f"slack:{enterprise_id}:{team_id}:{user_id}"
    return f"slack:{team_id}:{user_id}"


@dataclass(frozen=True, slots=True)
class SlackPrincipal:
    """A principal taken apart: the user, their workspace and its Grid organization (if any)."""

    team_id: str
    user_id: str
    enterprise_id: str | None = None


def parse_principal(principal: str) -> SlackPrincipal | None:
    """The Slack user a principal names, ``None`` for anything else."""
    parts = principal.split(":")
    if parts[0] != "slack" or not all(parts[1:]):
        return None
    if len(parts) == 3:
        return SlackPrincipal(team_id=parts[1], user_id=parts[2])
    if len(parts) == 4:
        return SlackPrincipal(team_id=parts[2], user_id=parts[3], enterprise_id=parts[1])
    return None


def workspace_prefix(team_id: str | None, enterprise_id: str | None = None) -> str:
    """What every principal of one workspace (or, without a team, one Grid organization) starts with."""
    if enterprise_id:
        return f"slack:{enterprise_id}:{team_id}:" if team_id else f"slack:{enterprise_id}:"
    return f"slack:{team_id}:"


def describe_principal(principal: str) -> str:
    """How support reads a principal: ``slack:T1:U1`` -> ``Slack user U1 in workspace T1``."""
    slack = parse_principal(principal)
    if slack is not None:
        organization = f" of organization {slack.enterprise_id}" if slack.enterprise_id else ""
        return f"Slack user {slack.user_id} in workspace {slack.team_id}{organization}"
    if principal.startswith("system:"):
        return "raised automatically by the bot"
    return principal


@dataclass(frozen=True, slots=True)
class ClaimTrust:
    """Whose claimed e-mail identifies them in ``slack_email`` mode, by principal.

    ``trusted_team_ids``: the workspaces and Grid organizations whose Slack e-mail is trusted
    (``SLACK_EMAIL_TRUSTED_TEAMS``); when it is empty, ``trust_all`` decides (every claim is trusted
    for a single-workspace install, none for an app distributed by OAuth).
    """

    trusted_team_ids: frozenset[str] = frozenset()
    trust_all: bool = True

    @classmethod
    def of(cls, trusted_team_ids: Collection[str], *, trust_all: bool) -> ClaimTrust:
        return cls(frozenset(trusted_team_ids), trust_all)

    def trusts_team(self, team_id: str) -> bool:
        if not self.trusted_team_ids:
            return self.trust_all
        return team_id in self.trusted_team_ids

    def trusts(self, principal: str) -> bool:
        """True when the e-mail Slack shows for ``principal`` identifies them."""
        parsed = parse_principal(principal)
        if parsed is None:
            return self.trusts_team("")
        return self.trusts_team(parsed.team_id) or (
            parsed.enterprise_id is not None and self.trusts_team(parsed.enterprise_id)
        )
