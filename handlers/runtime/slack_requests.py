"""Checks on a raw Slack request before Bolt sees it (Bolt parses before it verifies,
and some signed but malformed payloads make it fail with a 500).

``verify`` -> 401 material; ``read`` -> what the HTTP layer needs to know of the request (one
parse for all the checks), or ``Malformed`` -> 400 material. Both pure.

The signature is checked here, not by slack_sdk's ``SignatureVerifier`` (nor by Bolt, which uses
it): it decodes the body as UTF-8 and raises on anything else, ``int()``s the timestamp and raises
on garbage, and ``hmac.compare_digest`` raises on a non-ASCII header; Slack's signature is over the
raw bytes, and an unsigned non-UTF-8 body must be a 401, a signed one a 400, never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

MAX_AGE_SECONDS = 60 * 5
MAX_BODY_BYTES = 1_000_000


class Malformed(ValueError):
    """A verified body that is not a Slack request Bolt can be given; the message says why."""


@dataclass(frozen=True)
class SlackRequest:
    kind: str  # "event", "command", or the interaction's type: for logs and metrics
    event_id: str | None  # an Events API delivery's id, for dedupe


def verify(secret: str, body: bytes, timestamp: str | None, signature: str | None, *, now: float | None = None) -> bool:
    """Slack's ``v0`` signature over the raw bytes, not older than five minutes."""
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def read(text: str) -> SlackRequest:
    """What a verified body is; ``Malformed`` when it is not a request Bolt can handle."""
    if text.lstrip().startswith("{"):
        return _events_request(text)
    try:
        form = dict(urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
    except ValueError:
        raise Malformed("not form-encoded") from None
    if "payload" in form:
        try:
            payload = json.loads(form["payload"])
        except ValueError:
            raise Malformed("payload is not JSON") from None
        except RecursionError:
            raise Malformed("payload nested too deep") from None
        _fail_if(_interaction_problem(payload))
        kind = payload["type"]
        return SlackRequest(kind if len(kind) < 40 else "unknown", None)
    if "command" in form:
        if not form["command"].startswith("/"):
            raise Malformed("bad command")
        if not form.get("user_id") or not form.get("team_id"):
            raise Malformed("command without user or team")
        return SlackRequest("command", None)
    if "ssl_check" in form:
        return SlackRequest("command", None)
    raise Malformed("unknown request")


def _fail_if(problem: str | None) -> None:
    if problem is not None:
        raise Malformed(problem)


def _events_request(text: str) -> SlackRequest:
    try:
        data = json.loads(text)
    except ValueError:
        raise Malformed("not JSON") from None
    except RecursionError:  # json gives up on nesting deeper than the interpreter's recursion limit
        raise Malformed("nested too deep") from None
    _fail_if(_json_problem(data))
    event_id = data.get("event_id")
    return SlackRequest("event", event_id if isinstance(event_id, str) and 0 < len(event_id) <= 64 else None)


def _json_problem(data: Any) -> str | None:
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
