"""A workspace that uninstalls the app, or revokes its tokens, is forgotten.

Slack sends ``app_uninstalled`` and ``tokens_revoked`` (subscribed in manifest.yml). Bolt's
built-in listeners delete the tokens from the installation store; these do that too, and also
remove the identity links of that workspace's people (a reinstall starts from scratch: nobody is
trusted on an old proof) and write an audit entry. Nothing is sent there afterwards: messages
already queued find no installation and are dropped with a log line.

The workspace is the one the event body names (``team_id``, ``enterprise_id``), and it must be the
one Bolt authorized the event for (``authorizations[0]``, where Bolt takes ``context.team_id``
from): an event whose two disagree removes nothing and is audited as refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from billing_core.audit import AuditLog
from billing_core.identity.directory import PrincipalDirectory
from billing_core.identity.principal import workspace_prefix
from bot.slack.workspaces import Workspace

logger = logging.getLogger(__name__)


def register_uninstall_listeners(
    app: App,
    store: InstallationStore,
    directory: PrincipalDirectory,
    audit: AuditLog,
    *,
    forget_authorization: Callable[[str | None, str | None], None] | None = None,
) -> None:
    """Listen for ``app_uninstalled`` and ``tokens_revoked`` (OAuth installs only)."""
    builtins = TokenRevocationListeners(store)

    def forget(context: BoltContext, what: str) -> None:
        if forget_authorization is not None:
            forget_authorization(context.enterprise_id, context.team_id)
        workspace = Workspace(context.team_id, context.enterprise_id)
        removed = directory.forget(workspace_prefix(context.team_id, context.enterprise_id))
        logger.info("workspace %s: %s; %d identity link(s) removed", workspace.key, what, removed)
        audit.record(
            actor=None,
            action=f"slack.{what}",
            outcome="ok",
            target=workspace.key or None,
            detail={"identity_links_removed": removed},
        )

    def agreed(body: dict[str, Any], context: BoltContext, what: str) -> bool:
        if names_the_authorized_workspace(body, context):
            return True
        logger.warning("%s for team %r, authorized for team %s: ignored", what, body.get("team_id"), context.team_id)
        audit.record(
            actor=None,
            action=f"slack.{what}",
            outcome="refused",
            target=str(body.get("team_id") or ""),
            detail={"authorized_team": context.team_id, "authorized_enterprise": context.enterprise_id},
        )
        return False

    def app_uninstalled(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        if agreed(body, context, "app_uninstalled"):
            builtins.handle_app_uninstalled_events(context)
            forget(context, "app_uninstalled")

    def tokens_revoked(ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        ack()
        if agreed(body, context, "tokens_revoked"):
            builtins.handle_tokens_revoked_events(event, context)
            if (event.get("tokens") or {}).get("bot"):
                forget(context, "tokens_revoked")

    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)


def names_the_authorized_workspace(body: dict[str, Any], context: BoltContext) -> bool:
    """True when the body's ``team_id`` (and ``enterprise_id``, when given) is the workspace Bolt
    authorized the event for; an org-wide install (no team) matches its organization's id."""
    team, enterprise = body.get("team_id"), body.get("enterprise_id")
    if enterprise is not None and enterprise != context.enterprise_id:
        return False
    if context.team_id is not None:
        return team == context.team_id
    return context.enterprise_id is not None and context.enterprise_id in (team, enterprise)


def register_team_access_listeners(
    app: App,
    directory: PrincipalDirectory,
    audit: AuditLog,
    *,
    forget_workspace: Callable[[str | None, str | None], None],
    publish_home: Callable[[WebClient, str, str, str | None], None],
) -> None:
    """Org-wide (Enterprise Grid) installs: an org admin adds the app to workspaces of the
    organization (``team_access_granted``) or removes it from some (``team_access_revoked``), with
    the workspaces in ``event.team_ids`` (docs.slack.dev/reference/events/team_access_granted,
    .../team_access_revoked; subscribed in manifest.yml).

    Granted: the Home tab is published for the people of those workspaces the bot already knows
    (no welcome DM: nobody asked for one, and unsolicited DMs are what consent is about). Revoked:
    those workspaces' identity links and cached clients are forgotten and an audit entry written;
    the organization's installation stays for its other workspaces.
    """

    def team_ids(event: dict[str, Any]) -> list[str]:
        ids = event.get("team_ids")
        return [team for team in ids if isinstance(team, str) and team][:1000] if isinstance(ids, list) else []

    def granted(ack: Ack, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        enterprise_id = context.enterprise_id
        published = 0
        for team_id in team_ids(event):
            for principal in directory.known(workspace_prefix(team_id, enterprise_id)):
                user_id = principal.rsplit(":", 1)[-1]
                publish_home(client, team_id, user_id, enterprise_id)
                published += 1
        audit.record(
            actor=None,
            action="slack.team_access_granted",
            outcome="ok",
            target=enterprise_id,
            detail={"teams": team_ids(event)[:50], "homes_published": published},
        )

    def revoked(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
        ack()
        enterprise_id = context.enterprise_id
        removed = 0
        for team_id in team_ids(event):
            forget_workspace(enterprise_id, team_id)
            removed += directory.forget(workspace_prefix(team_id, enterprise_id))
        logger.info(
            "organization %s: access to %d workspace(s) revoked; %d identity link(s) removed",
            enterprise_id,
            len(team_ids(event)),
            removed,
        )
        audit.record(
            actor=None,
            action="slack.team_access_revoked",
            outcome="ok",
            target=enterprise_id,
            detail={"teams": team_ids(event)[:50], "identity_links_removed": removed},
        )

    app.event("team_access_granted")(granted)
    app.event("team_access_revoked")(revoked)
