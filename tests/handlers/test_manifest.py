"""manifest.yml is a valid Slack app manifest with what the app needs."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.client import BOT_OPTIONAL_SCOPES, BOT_SCOPES

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def test_the_manifest_declares_the_command_interactivity_home_event_and_scopes() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["_metadata"]["major_version"] == 1
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/billing" and command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
        "team_access_granted",
        "team_access_revoked",
        "message.im",
        "message.groups",
        "app_mention",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    ]
    assert manifest["settings"]["org_deploy_enabled"] is True  # Enterprise Grid org-wide installs
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "users:read",
        "users:read.email",
        "im:write",
        "im:history",
        "app_mentions:read",
        "assistant:write",
    }
    # Least privilege: customers' workspaces are not asked to read private channels (the support
    # channel's checks and its threads need them only in the vendor's own workspace).
    assert (
        manifest["oauth_config"]["scopes"]["bot_optional"]
        == list(BOT_OPTIONAL_SCOPES)
        == ["groups:read", "groups:history"]
    )
    assert manifest["features"]["assistant_view"]["assistant_description"]
    assert set(BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])  # what OAuth installs ask for
    assert len(manifest["display_information"]["name"]) <= 35
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000
