"""The App Home tab: published on ``app_home_opened`` and after every change the caller makes."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.autopay.switch import AutopayStatus
from billing_core.errors import NotABillingContact
from billing_core.home import HomeRead
from handlers.home.blocks import MAX_HOME_INVOICES, home_refusal_view, home_view
from handlers.kit.errors import not_a_contact_message
from handlers.kit.guard import acked
from handlers.kit.interaction import Deps, Interaction, run_safely
from handlers.kit.staff import is_staff, may_be_staff
from handlers.staff.listeners import publish_staff_home

logger = logging.getLogger(__name__)

VERIFY_FIRST = "Please confirm your e-mail address first: run /billing and I'll e-mail you a code."


def publish_home(ix: Interaction) -> None:
    """Render the caller's dashboard into their Home tab. Never raises."""
    publish_home_for(ix.deps, ix.client, ix.team_id, ix.user_id, ix.enterprise_id)


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
    publish_home_for(ix.deps, ix.client, ix.team_id, ix.user_id, ix.enterprise_id, view_hash=view_hash)


def publish_home_for(
    deps: Deps,
    client: WebClient,
    team_id: str,
    user_id: str,
    enterprise_id: str | None = None,
    *,
    view_hash: str | None = None,
) -> None:
    """Same, outside a request (after a webhook settled a payment). Never raises."""
    try:
        actor = deps.identity.resolve(client, team_id, user_id, enterprise_id)
        view = home_refusal_view(not_a_contact_message(deps.support_email))
        if actor is not None:
            try:
                home = deps.services.home.read(actor)  # one statement, the proven e-mail included
                if not deps.services.identity_verification.proven_by(actor, home.proven_email):
                    # No code is e-mailed just for opening the tab; /billing does that.
                    view = home_refusal_view(VERIFY_FIRST)
                else:
                    view = home_view(
                        home.caller, home.invoices[:MAX_HOME_INVOICES], _autopay_line(deps, home), home.preferences
                    )
            except NotABillingContact:
                pass
        _publish(deps, client, team_id, user_id, view, view_hash)
    except SlackApiError as error:
        if error.response.get("error") == "hash_conflict":  # a newer Home is there already: keep it
            logger.info("views.publish skipped: the Home changed since it was opened")
            return
        logger.warning("views.publish failed: %s", error.response.get("error"))
    except Exception:
        logger.exception("could not publish the Home tab")


def _publish(
    deps: Deps, client: WebClient, team_id: str, user_id: str, view: dict[str, Any], view_hash: str | None
) -> None:
    """``views.publish``, unless the person opened the very Home last published to them (Slack's
    event carries that view: its ``hash`` is the one our publish got back) and it would be drawn
    the same now (same digest of the rendered view). Any other publish (after a change, after a
    webhook, another replica's or another screen's publish since: Slack's hash differs) goes out."""
    key = (team_id or "", user_id)
    digest = hashlib.sha256(json.dumps(view, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    if view_hash:
        last = deps.published_homes.get(key)
        if last is not None and last.value == (digest, view_hash):
            return
    deps.published_homes.pop(key)  # unknown until Slack answers
    at = deps.published_homes.now()
    if view_hash:
        answer = client.views_publish(user_id=user_id, view=view, hash=view_hash)
    else:
        answer = client.views_publish(user_id=user_id, view=view)
    published = answer.get("view")
    new_hash = published.get("hash") if isinstance(published, dict) else None
    if isinstance(new_hash, str) and new_hash:
        deps.published_homes.put(key, (digest, new_hash), at)


def _autopay_line(deps: Deps, home: HomeRead) -> AutopayStatus | None:
    """The read's autopay line; None when nothing could be charged (no Stripe key). When the copy
    knows no default card, autopay's own read asks Stripe first, as it always did."""
    service = deps.services.chargeable_autopay()
    if service is None:
        return None
    if home.default_card_unknown:
        return service.status(home.caller.actor, home.caller.active.external_id)
    return home.autopay


def home_opened(body: dict[str, Any], client: WebClient, context: BoltContext, event: dict[str, Any]) -> None:
    if event.get("tab", "home") != "home":
        return
    run_safely(body, client, context, publish_opened_home)


def register(app: App) -> None:
    app.event("app_home_opened")(acked(home_opened))
