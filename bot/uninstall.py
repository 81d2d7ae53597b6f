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
from slack_sdk.oauth.installation_store import InstallationStore

from billing_core.audit import AuditLog
from billing_core.identity.directory import PrincipalDirectory
from bot.workspaces import Workspace
from handlers.kit.identity import workspace_prefix

logger = logging.getLogger(__name__)


def register_uninstall_listeners(
    app: App, store: InstallationStore, directory: PrincipalDirectory, audit: AuditLog,
    *, forget_authorization: Callable[[str | None, str | None], None] | None = None,
) -> None:
    """Listen for ``app_uninstalled`` and ``tokens_revoked`` (OAuth installs only)."""
    builtins = TokenRevocationListeners(store)

    def forget(context: BoltContext, what: str) -> None:
        if forget_authorization is not None:
            forget_authorization(context.enterprise_id, context.team_id)
        workspace = Workspace(context.team_id, context.enterprise_id)
        removed = directory.forget(workspace_prefix(context.team_id, context.enterprise_id))
        logger.info("workspace %s: %s; %d identity link(s) removed", workspace.key, what, removed)
        audit.record(actor=None, action=f"slack.{what}", outcome="ok", target=workspace.key or None,
                     detail={"identity_links_removed": removed})

    def agreed(body: dict[str, Any], context: BoltContext, what: str) -> bool:
        if names_the_authorized_workspace(body, context):
            return True
        logger.warning("%s for team %r, authorized for team %s: ignored", what, body.get("team_id"), context.team_id)
        audit.record(actor=None, action=f"slack.{what}", outcome="refused", target=str(body.get("team_id") or ""),
                     detail={"authorized_team": context.team_id, "authorized_enterprise": context.enterprise_id})
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
