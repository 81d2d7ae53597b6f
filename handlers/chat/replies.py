"""Where a chat answer goes: the app's DM (in the message's thread when it had one), or an
ephemeral message to the person who mentioned the app (never the channel)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.kit.blocks import Screen

logger = logging.getLogger(__name__)


def own_dm(client: WebClient, user: str) -> str | None:
    """The channel id of ``user``'s own DM with the app (``conversations.open`` for that user), or
    None when Slack refuses. A signed event naming another person's DM channel is answered here."""
    try:
        opened = client.conversations_open(users=user)
    except SlackApiError as error:
        logger.warning("the DM of a person who wrote to the app could not be opened: %s", error.response.get("error"))
        return None
    channel = (opened.get("channel") or {}).get("id")
    return str(channel) if channel else None


class DmReply:
    """``chat.postMessage`` in the DM the message came from, in its thread when it had one."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str | None) -> None:
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts

    def show(self, screen: Screen) -> None:
        try:
            self._client.chat_postMessage(
                channel=self._channel, thread_ts=self._thread_ts, text=screen.text, blocks=screen.blocks
            )
        except SlackApiError as error:
            logger.warning("chat answer not posted: %s", error.response.get("error"))


class EphemeralReply:
    """``chat.postEphemeral`` to ``user`` in ``channel``: only the person who asked sees it."""

    def __init__(self, client: WebClient, channel: str, user: str, thread_ts: str | None) -> None:
        self._client = client
        self._channel = channel
        self._user = user
        self._thread_ts = thread_ts

    def show(self, screen: Screen) -> None:
        try:
            self._client.chat_postEphemeral(
                channel=self._channel,
                user=self._user,
                thread_ts=self._thread_ts,
                text=screen.text,
                blocks=screen.blocks,
            )
        except SlackApiError as error:
            logger.warning("ephemeral chat answer not posted: %s", error.response.get("error"))
