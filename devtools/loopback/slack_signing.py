"""Build requests exactly as Slack (and Stripe) send them, signed.

Slack: the v0 signature over ``v0:timestamp:body`` (docs.slack.dev, "Verifying requests").
Bodies are ``bytes`` so the signature is over the
very bytes that go on the wire::

    body = slash_command_body("pay INV-42", response_url=api.response_url)
    resp = http.post("/slack/events", content=body, headers=signed_headers(SECRET, body))
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from typing import Any

__all__ = [
    "app_home_opened_event",
    "block_actions_body",
    "block_actions_payload",
    "button_action",
    "event_body",
    "form_body",
    "interaction_body",
    "select_input_value",
    "signed_headers",
    "slack_signature",
    "slash_command_body",
    "static_select_action",
    "stripe_signature_header",
    "stripe_signed_headers",
    "text_input_value",
    "view_submission_body",
    "view_submission_payload",
]

DEFAULT_RESPONSE_URL = "https://hooks.slack.com/commands/T111/111/xxx"
DEFAULT_ACTIONS_RESPONSE_URL = "https://hooks.slack.com/actions/T111/111/xxx"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


def _now() -> int:
    return int(time.time())


# -- signatures -------------------------------------------------------------


def slack_signature(secret: str, body: bytes, timestamp: int | str) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed with ``secret``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    body: bytes,
    timestamp: int | str | None = None,
    content_type: str | None = None,
) -> dict[str, str]:
    """Headers Slack sends with ``body``: signature, timestamp and content type.

    ``timestamp`` defaults to now (pass an old one to test staleness).  The
    content type defaults to JSON when the body looks like a JSON object,
    otherwise form encoding.
    """
    ts = str(_now() if timestamp is None else timestamp)
    if content_type is None:
        content_type = JSON_CONTENT_TYPE if body.lstrip()[:1] == b"{" else FORM_CONTENT_TYPE
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(secret, body, ts),
    }


def stripe_signature_header(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """``t=<ts>,v1=<hex HMAC-SHA256 of "{ts}.{payload}">``, as Stripe signs webhooks."""
    ts = _now() if timestamp is None else timestamp
    signed = str(ts).encode() + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def stripe_signed_headers(secret: str, payload: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers of a Stripe webhook delivery of ``payload``."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": stripe_signature_header(secret, payload, timestamp),
    }


# -- bodies -----------------------------------------------------------------


def form_body(fields: dict[str, str]) -> bytes:
    """Form-encode ``fields`` (``+`` for spaces, as Slack does)."""
    return urllib.parse.urlencode(fields).encode()


def slash_command_body(
    text: str,
    user_id: str = "W111",
    team_id: str = "T111",
    channel_id: str = "C111",
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger_id: str | None = None,
    *,
    command: str = "/billing",
    user_name: str = "ann",
    team_domain: str = "acme",
    channel_name: str = "general",
    api_app_id: str = "A111",
    token: str = "x",
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    is_enterprise_install: bool = False,
) -> bytes:
    """Form-encoded slash command body with every field Slack sends."""
    fields: dict[str, str] = {"token": token, "team_id": team_id, "team_domain": team_domain}
    if enterprise_id is not None:
        fields["enterprise_id"] = enterprise_id
        fields["enterprise_name"] = enterprise_name or "Acme Enterprise"
    fields.update(
        {
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "true" if is_enterprise_install else "false",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{_now()}.111.{uuid.uuid4().hex[:16]}",
        }
    )
    return form_body(fields)


def interaction_body(payload: dict[str, Any]) -> bytes:
    """``payload=<url-encoded JSON>`` as Slack posts interactivity requests."""
    return ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()


def block_actions_body(payload: dict[str, Any]) -> bytes:
    """Body of a ``block_actions`` request (see :func:`block_actions_payload`)."""
    return interaction_body(payload)


def view_submission_body(payload: dict[str, Any] | None = None, **kwargs: Any) -> bytes:
    """Body of a ``view_submission`` request.

    Pass a full ``payload`` or the keyword arguments of
    :func:`view_submission_payload`.
    """
    return interaction_body(payload if payload is not None else view_submission_payload(**kwargs))


def event_body(
    event: dict[str, Any],
    *,
    team_id: str = "T111",
    api_app_id: str = "A111",
    bot_user_id: str = "UBOT",
    event_id: str | None = None,
    event_time: int | None = None,
    token: str = "x",
) -> bytes:
    """JSON ``event_callback`` envelope around ``event`` (Events API)."""
    now = _now() if event_time is None else event_time
    envelope = {
        "token": token,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": now,
        "authorizations": [
            {"team_id": team_id, "user_id": bot_user_id, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode()


def app_home_opened_event(
    user_id: str = "W111", channel: str = "D111", tab: str = "home", view: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An ``app_home_opened`` event (wrap with :func:`event_body`)."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    return event


# -- interaction payloads ------------------------------------------------------


def button_action(action_id: str, value: str, block_id: str = "b", text: str = "Button") -> dict[str, Any]:
    """One ``button`` element action as it appears in ``actions[]``."""
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_ts": f"{time.time():.6f}",
    }


def static_select_action(
    action_id: str,
    value: str | None,
    block_id: str = "b",
    text: str | None = None,
) -> dict[str, Any]:
    """One ``static_select`` action; ``value=None`` is a deselection (``selected_option: null``)."""
    option = (
        None
        if value is None
        else {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}
    )
    return {
        "type": "static_select",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": option,
        "placeholder": {"type": "plain_text", "text": "Choose", "emoji": True},
        "action_ts": f"{time.time():.6f}",
    }


def block_actions_payload(
    action: dict[str, Any],
    user_id: str = "W111",
    team_id: str = "T111",
    channel_id: str = "C111",
    response_url: str = DEFAULT_ACTIONS_RESPONSE_URL,
    trigger_id: str | None = None,
    *,
    container: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    user_name: str = "ann",
    api_app_id: str = "A111",
) -> dict[str, Any]:
    """A ``block_actions`` payload carrying one ``action``.

    By default the action comes from an ephemeral message in ``channel_id``.
    Pass ``view`` (a modal or Home view) to make it come from a view instead;
    pass ``message`` (e.g. a DM sent by the bot) for a non-ephemeral message.
    """
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "x",
        "trigger_id": trigger_id or f"{_now()}.111.valid",
        "team": {"id": team_id, "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        payload["container"] = container or {
            "type": "view",
            "view_id": view.get("id", "V111"),
        }
        payload["view"] = view
    else:
        msg_ts = (message or {}).get("ts", "111.222")
        payload["container"] = container or {
            "type": "message",
            "message_ts": msg_ts,
            "channel_id": channel_id,
            "is_ephemeral": message is None,
        }
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["response_url"] = response_url
        if message is not None:
            payload["message"] = message
    payload["state"] = {"values": {}}
    return payload


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]] | None = None,
    private_metadata: str | dict[str, Any] = "",
    user_id: str = "W111",
    team_id: str = "T111",
    *,
    view_id: str = "V111",
    trigger_id: str | None = None,
    api_app_id: str = "A111",
    response_urls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``view_submission`` payload.

    ``values`` is ``view.state.values``: ``{block_id: {action_id: {...}}}``; see
    :func:`text_input_value` and :func:`select_input_value` for the inner dicts.
    A dict ``private_metadata`` is JSON-encoded.
    """
    metadata = private_metadata if isinstance(private_metadata, str) else json.dumps(private_metadata)
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "username": "ann", "name": "ann", "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "x",
        "trigger_id": trigger_id or f"{_now()}.111.valid",
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {"values": values or {}},
            "hash": f"{time.time():.6f}.abcdef",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": api_app_id,
            "bot_id": "B111",
            "blocks": [],
            "title": {"type": "plain_text", "text": "Billing"},
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def text_input_value(value: str | None) -> dict[str, Any]:
    """``state.values`` entry of a ``plain_text_input``."""
    return {"type": "plain_text_input", "value": value}


def select_input_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    """``state.values`` entry of a ``static_select`` input (``None`` = nothing chosen)."""
    option = (
        None
        if value is None
        else {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}
    )
    return {"type": "static_select", "selected_option": option}


def datepicker_value(day: str | None) -> dict[str, Any]:
    """``state.values`` entry of a ``datepicker`` input (``YYYY-MM-DD``; ``None`` = nothing picked)."""
    return {"type": "datepicker", "selected_date": day}
