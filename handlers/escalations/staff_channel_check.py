"""Is ``SUPPORT_SLACK_CHANNEL`` fit for billing staff? Private, and not shared with another
organization over Slack Connect.

Every customer's request is posted there, with names, e-mails and invoices: a public channel
shows them to the whole workspace, and a Slack Connect channel to another company's people
(Slack's conversation object: ``is_private``, ``is_ext_shared``, ``is_pending_ext_shared``;
docs.slack.dev/reference/objects/conversation-object). Reading a private channel's details needs
the bot scope ``groups:read``, asked for as an optional scope (manifest ``bot_optional``): only the
vendor's own workspace, which holds the channel, needs to grant it.

The answer is cached briefly: the outbox asks before each post, ``/healthz`` on each probe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.runtime.ttl_cache import TtlCache

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300.0

NO_INSTALLATION = "no Slack installation for the support channel's workspace (SUPPORT_SLACK_TEAM)"
PUBLIC = "SUPPORT_SLACK_CHANNEL is a public channel: billing staff's channel must be private"
SHARED = (
    "SUPPORT_SLACK_CHANNEL is shared with another organization (Slack Connect): billing staff's channel "
    "must not be shared outside the vendor"
)
MISSING_SCOPE = (
    "cannot read SUPPORT_SLACK_CHANNEL's settings: grant the optional bot scope groups:read in the "
    "support channel's workspace (reinstall the app there) and invite the bot to the channel"
)


class StaffChannelCheck:
    """``problem()``: why escalations may not be posted to the channel now, or ``None`` when fit."""

    def __init__(
        self,
        channel: str,
        client_source: Callable[[], WebClient | None],
        *,
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self._client_source = client_source
        self._cached: TtlCache[None, str | None] = TtlCache(cache_seconds, monotonic=monotonic)

    def problem(self) -> str | None:
        return self._cached.get_or_load(None, self._ask)

    def _ask(self) -> str | None:
        client = self._client_source()
        if client is None:
            return NO_INSTALLATION
        try:
            info = client.conversations_info(channel=self.channel).get("channel") or {}
        except SlackApiError as error:
            code = str(error.response.get("error") or "unknown")
            if code == "missing_scope":
                return MISSING_SCOPE
            return f"cannot read SUPPORT_SLACK_CHANNEL's settings (Slack said {code})"
        except OSError as error:
            logger.warning("could not check the support channel: %s", type(error).__name__)
            return f"cannot read SUPPORT_SLACK_CHANNEL's settings ({type(error).__name__})"
        return channel_problem(info)


def channel_problem(info: dict[str, object]) -> str | None:
    """What is wrong with a conversation object as the staff channel, or ``None``."""
    if info.get("is_ext_shared") or info.get("is_pending_ext_shared"):
        return SHARED
    if not info.get("is_private"):
        return PUBLIC
    return None
