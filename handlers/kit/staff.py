"""Who is billing staff: a member of the private support channel (``SUPPORT_SLACK_CHANNEL``), in
the workspace that holds it (``SUPPORT_SLACK_TEAM`` when several are installed).

Asked of Slack on every request that shows or changes staff data (``conversations.info``: still
private and not shared with another organization; ``conversations.members``: still a member), so
someone removed from the channel loses access at once. Only the Home tab first asks a member list
kept for a few seconds (``may_be_staff``), so that everyone else's Home costs no Slack call. A button
value or a channel id proves nothing. Anything that cannot be checked counts as "not staff".
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from billing_core.errors import NotBillingStaff
from billing_core.identity.principal import principal_for
from billing_core.views import Actor
from handlers.kit.interaction import Interaction

logger = logging.getLogger(__name__)

MEMBER_PAGES = 50


def may_be_staff(ix: Interaction) -> bool:
    """Whether the caller was a member of the support channel when Slack last listed it (at most
    ``STAFF_ROSTER_SECONDS`` ago): false settles it for everyone else (customers' Home tabs cost no
    Slack call); true is only a hint, to be confirmed live with :func:`is_staff`."""
    channel = _support_channel(ix)
    if channel is None:
        return False
    roster = ix.deps.staff_roster.get_or_load(
        (ix.team_id or "", channel), lambda: _members(ix, channel), keep=lambda found: found is not None
    )
    return roster is not None and ix.user_id in roster


def is_staff(ix: Interaction) -> bool:
    """Asked of Slack now: the channel is private and unshared and the caller is a member."""
    channel = _support_channel(ix)
    if channel is None:
        return False
    members = _members(ix, channel, stop_at=ix.user_id)
    return members is not None and ix.user_id in members


def _support_channel(ix: Interaction) -> str | None:
    channel = ix.services.escalations.support_channel
    if not channel or ix.services.staff is None or not ix.user_id:
        return None
    if ix.deps.support_team is not None and ix.team_id != ix.deps.support_team:
        return None
    return channel


def _members(ix: Interaction, channel: str, stop_at: str | None = None) -> frozenset[str] | None:
    """The channel's members (up to ``stop_at`` when given); empty when the channel is public or
    shared (then no one is staff); None when Slack could not be asked."""
    try:
        info: Any = ix.client.conversations_info(channel=channel).get("channel") or {}
        if not info.get("is_private") or info.get("is_ext_shared") or info.get("is_pending_ext_shared"):
            logger.warning("the support channel is public or shared: no one is billing staff")
            return frozenset()
        members: set[str] = set()
        cursor: str | None = None
        for _ in range(MEMBER_PAGES):
            answer = ix.client.conversations_members(channel=channel, limit=1000, cursor=cursor)
            members.update(answer.get("members") or [])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor or (stop_at is not None and stop_at in members):
                break
        return frozenset(members)
    except SlackApiError as error:
        logger.warning("could not check the support channel's members: %s", error.response.get("error"))
    return None


def require_staff(ix: Interaction) -> Actor:
    """The staff member acting (for the audit trail); ``NotBillingStaff`` for anyone else."""
    if not is_staff(ix):
        raise NotBillingStaff(ix.user_id)
    principal = principal_for(ix.team_id, ix.user_id, ix.enterprise_id)
    try:
        found = ix.deps.identity.resolve(ix.client, ix.team_id, ix.user_id, ix.enterprise_id)
    except Exception:  # the audit names the principal either way
        found = None
    email = found.email if found is not None else principal
    return Actor(email=email, principal=principal, display_name=found.display_name if found else "")
