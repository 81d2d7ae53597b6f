"""Checks on a raw Slack request before Bolt sees it (SLACK.md §10: Bolt parses before it verifies,
and some signed but malformed payloads make it fail with a 500).

``verify`` -> 401 material; ``problem`` -> 400 material. Both pure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

MAX_AGE_SECONDS = 60 * 5
MAX_BODY_BYTES = 1_000_000


def verify(secret: str, body: bytes, timestamp: str | None, signature: str | None, *, now: float | None = None) -> bool:
    """Slack's ``v0`` signature over the raw bytes, not older than five minutes."""
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def problem(text: str) -> str | None:
    """Why a verified body is not a Slack request we can hand to Bolt; ``None`` when it is."""
    if text.lstrip().startswith("{"):
        return _json_problem(text)
    try:
        form = urllib.parse.parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        return "not form-encoded"
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except ValueError:
            return "payload is not JSON"
        return _interaction_problem(payload)
    if "command" in form:
        if not form["command"][0].startswith("/"):
            return "bad command"
        if not form.get("user_id", [""])[0] or not form.get("team_id", [""])[0]:
            return "command without user or team"
        return None
    if "ssl_check" in form:
        return None
    return "unknown request"


def _json_problem(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return "not JSON"
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return "no type"
    if data["type"] == "url_verification":
        return None if isinstance(data.get("challenge"), str) else "no challenge"
    if data["type"] not in ("event_callback", "app_rate_limited"):
        return "not an Events API request"  # interactions come form-encoded, never as JSON
    if data["type"] == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "bad event"
        for key in ("user", "channel", "tab"):
            if key in event and not isinstance(event[key], (str, dict, type(None))):
                return f"bad event {key}"
        if not isinstance(data.get("team_id", ""), str):
            return "bad team"
    return None


def _is_obj(value: Any) -> bool:
    return isinstance(value, dict)


def _interaction_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "payload without type"
    kind = payload["type"]
    for key in ("user", "team", "container", "channel", "view", "message", "enterprise", "state"):
        if key in payload and payload[key] is not None and not _is_obj(payload[key]):
            return f"bad {key}"
    user = payload.get("user")
    needs_user = ("block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut", "message_action")
    if kind in needs_user and (not isinstance(user, dict) or not isinstance(user.get("id"), str)):
        return "no user"
    for key in ("trigger_id", "response_url", "api_app_id", "token"):
        if key in payload and payload[key] is not None and not isinstance(payload[key], str):
            return f"bad {key}"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            return "no actions"
        for action in actions:
            if not _is_obj(action) or not isinstance(action.get("action_id"), str):
                return "bad action"
            if "block_id" in action and not isinstance(action["block_id"], str):
                return "bad block_id"
            if "value" in action and not isinstance(action["value"], (str, type(None))):
                return "bad value"
            option = action.get("selected_option")
            if option is not None and (not _is_obj(option) or not isinstance(option.get("value", ""), str)):
                return "bad option"
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id", ""), str):
            return "bad view"
        if not isinstance(view.get("private_metadata", ""), (str, type(None))):
            return "bad metadata"
        state = view.get("state", {})
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
            return "bad state"
        if not all(_is_obj(block) for block in state.get("values", {}).values()):
            return "bad state"
        if not isinstance(view.get("id", ""), str):
            return "bad view id"
    return None
