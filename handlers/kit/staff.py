"""Who is billing staff: a member of the private support channel (``SUPPORT_SLACK_CHANNEL``), in
the workspace that holds it (``SUPPORT_SLACK_TEAM`` when several are installed).

Asked of Slack on every request that shows or changes staff data (``conversations.info``: still
private and not shared with another organization; ``conversations.members``: still a member), so
someone removed from the channel loses access at once. A button value or a channel id proves
nothing. Anything that cannot be checked counts as "not staff".
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


def is_staff(ix: Interaction) -> bool:
    channel = ix.services.escalations.support_channel
    if not channel or ix.services.staff is None or not ix.user_id:
        return False
    if ix.deps.support_team is not None and ix.team_id != ix.deps.support_team:
        return False
    try:
        info: Any = ix.client.conversations_info(channel=channel).get("channel") or {}
        if not info.get("is_private") or info.get("is_ext_shared") or info.get("is_pending_ext_shared"):
            logger.warning("the support channel is public or shared: no one is billing staff")
            return False
        cursor: str | None = None
        for _ in range(MEMBER_PAGES):
            answer = ix.client.conversations_members(channel=channel, limit=1000, cursor=cursor)
            if ix.user_id in (answer.get("members") or []):
                return True
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return False
    except SlackApiError as error:
        logger.warning("could not check the support channel's members: %s", error.response.get("error"))
    return False


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
