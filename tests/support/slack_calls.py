"""Reading what the Slack stand-in answered."""

from __future__ import annotations

from typing import Any

from devtools.loopback.slack_api import RecordedCall


def answered(call: RecordedCall) -> dict[str, Any]:
    """The JSON the stand-in answered ``call`` with (``response`` is ``None`` only for text answers)."""
    assert call.response is not None, f"{call.method} was answered with text, not JSON"
    return call.response


def landed_in(call: RecordedCall) -> str:
    """The channel a ``chat.postMessage`` landed in: Slack's answer (a DM posted to a user id lands in
    that person's DM, ``D…``), else the channel the request named."""
    return str((call.response or {}).get("channel") or call.json_args.get("channel") or "")
