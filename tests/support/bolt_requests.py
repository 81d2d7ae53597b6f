"""Requests from Slack, signed, for ``App.dispatch`` in process."""

from __future__ import annotations

from collections.abc import Sequence

from slack_bolt import BoltRequest

from devtools.loopback.slack_signing import signed_headers


def signed_request(secret: str, body: bytes) -> BoltRequest:
    """``body`` as Slack sends it, signed with ``secret``."""
    # BoltRequest takes a dict[str, str | Sequence[str]] (dict is invariant, so a dict[str, str] is refused).
    headers: dict[str, str | Sequence[str]] = {**signed_headers(secret, body)}
    return BoltRequest(body=body.decode(), headers=headers)
