"""The App Home tab: published on ``app_home_opened`` and after every change the caller makes."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.kit.guard import acked
from handlers.kit.interaction import Interaction, run_safely
from handlers.kit.staff import is_staff, may_be_staff
from handlers.staff.listeners import publish_staff_home

logger = logging.getLogger(__name__)


def publish_opened_home(ix: Interaction) -> None:
    """``app_home_opened``: publish with the hash of the view the person has open, so a publish
    that comes late (another's, or this one) never overwrites a newer Home: Slack answers
    ``hash_conflict`` instead (views.publish ``hash``, "to protect against possible race
    conditions"; docs.slack.dev/reference/methods/views.publish)."""
    view = (ix.body.get("event") or {}).get("view") if isinstance(ix.body.get("event"), dict) else None
    view_hash = view.get("hash") if isinstance(view, dict) and isinstance(view.get("hash"), str) else None
    # Billing staff get the receivables view (a member list kept briefly spares everyone else the check).
    if ix.services.escalations.support_channel and may_be_staff(ix) and is_staff(ix):
        try:
            publish_staff_home(ix, page=0, view_hash=view_hash)
        except SlackApiError as error:
            logger.warning("views.publish of the staff view failed: %s", error.response.get("error"))
        return
    ix.deps.home.publish(ix.client, ix.team_id, ix.user_id, ix.enterprise_id, view_hash=view_hash)


def home_opened(body: dict[str, Any], client: WebClient, context: BoltContext, event: dict[str, Any]) -> None:
    if event.get("tab", "home") != "home":
        return
    run_safely(body, client, context, publish_opened_home)


def register(app: App) -> None:
    app.event("app_home_opened")(acked(home_opened))
