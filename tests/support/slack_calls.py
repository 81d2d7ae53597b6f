"""Reading what the Slack stand-in answered."""

from __future__ import annotations

from typing import Any

from devtools.loopback.slack_api import RecordedCall


def answered(call: RecordedCall) -> dict[str, Any]:
    """The JSON the stand-in answered ``call`` with (``response`` is ``None`` only for text answers)."""
    assert call.response is not None, f"{call.method} was answered with text, not JSON"
    return call.response
