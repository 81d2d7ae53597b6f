"""Requests exactly as Slack sends them: form-encoded slash commands, ``payload=`` JSON for
interactivity, JSON for events, each signed with the signing secret (``v0`` HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from typing import Any

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signed_headers(secret: str, body: str, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": f"v0={digest}"}


def slash_command(
    *,
    text: str,
    user_id: str,
    user_name: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str,
    command: str = "/billing",
    api_app_id: str = "ADEMO",
) -> str:
    """A slash command body (form-encoded, spaces as ``+``)."""
    return urllib.parse.urlencode(
        {
            "token": "demo",
            "team_id": team_id,
            "team_domain": "demo",
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel_id.startswith("D") else "general",
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interaction(payload: dict[str, Any]) -> str:
    """``payload=<url-encoded JSON>``, as Slack posts block actions and view submissions."""
    return "payload=" + urllib.parse.quote(json.dumps(payload))


def user_object(user_id: str, user_name: str, team_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def block_actions(
    *,
    user: dict[str, Any],
    team_id: str,
    action: dict[str, Any],
    trigger_id: str,
    container: dict[str, Any],
    extra: dict[str, Any],
    api_app_id: str = "ADEMO",
) -> dict[str, Any]:
    """A ``block_actions`` payload; ``extra`` adds ``channel``/``message``/``view``/``response_url``/``state``."""
    return {
        "type": "block_actions",
        "user": user,
        "team": {"id": team_id, "domain": "demo"},
        "api_app_id": api_app_id,
        "token": "demo",
        "trigger_id": trigger_id,
        "container": container,
        "actions": [action],
        **extra,
    }


def view_submission(
    *, user: dict[str, Any], team_id: str, view: dict[str, Any], trigger_id: str, api_app_id: str = "ADEMO"
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": user,
        "team": {"id": team_id, "domain": "demo"},
        "api_app_id": api_app_id,
        "token": "demo",
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
    }


def view_closed(
    *, user: dict[str, Any], team_id: str, view: dict[str, Any], api_app_id: str = "ADEMO"
) -> dict[str, Any]:
    return {
        "type": "view_closed",
        "user": user,
        "team": {"id": team_id, "domain": "demo"},
        "api_app_id": api_app_id,
        "token": "demo",
        "view": view,
        "is_cleared": False,
    }


def app_home_opened(*, user_id: str, team_id: str, channel: str, api_app_id: str = "ADEMO") -> str:
    """An Events API ``app_home_opened`` delivery (JSON)."""
    now = time.time()
    return json.dumps(
        {
            "token": "demo",
            "team_id": team_id,
            "api_app_id": api_app_id,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(now),
            "authorizations": [{"team_id": team_id, "user_id": "UBILLINGBOT", "is_bot": True}],
            "event": {
                "type": "app_home_opened",
                "user": user_id,
                "channel": channel,
                "tab": "home",
                "event_ts": f"{now:.6f}",
            },
        }
    )


def dm_message(*, user_id: str, team_id: str, channel: str, text: str, api_app_id: str = "ADEMO") -> str:
    """An Events API ``message`` delivery: ``text`` typed in the app's DM (``message.im``)."""
    now = time.time()
    return json.dumps(
        {
            "token": "demo",
            "team_id": team_id,
            "api_app_id": api_app_id,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(now),
            "authorizations": [{"team_id": team_id, "user_id": "UBILLINGBOT", "is_bot": True}],
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": channel,
                "user": user_id,
                "text": text,
                "ts": f"{now:.6f}",
                "event_ts": f"{now:.6f}",
                "team": team_id,
            },
        }
    )
