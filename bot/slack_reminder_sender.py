"""The reminder port on Slack's Web API: lookupByEmail (cached), users.info, conversations.open,
chat.postMessage and chat.update.

Rate limits never block here: a 429 (or a send that would break the one-message-per-second
per-channel pace) raises ``ChatRateLimited`` with the wait, and the sweep moves on to others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.errors import ChatDeliveryFailed, ChatRateLimited
from billing_core.reminders.messages import ChatContact, PostedMessage, ReminderMessage
from handlers.reminders.reminder_blocks import reminder_blocks

NOT_FOUND = frozenset({"users_not_found", "user_not_found", "account_inactive", "user_disabled"})


class SlackReminderSender:
    """Finds billing contacts in the workspace and DMs them reminders."""

    def __init__(
        self,
        client: WebClient,
        *,
        per_channel_interval: float = 1.0,
        cache_ttl: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._interval = per_channel_interval
        self._ttl = cache_ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._contacts: dict[str, tuple[float, ChatContact | None]] = {}
        self._channels: dict[str, str] = {}
        self._last_post: dict[str, float] = {}

    def find_contact(self, email: str) -> ChatContact | None:
        key = email.strip().lower()
        now = self._monotonic()
        with self._lock:
            cached = self._contacts.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            user = self._call("users_lookupByEmail", email=key)["user"]
        except _NotFound:
            contact = None
        else:
            contact = None if user.get("deleted") or user.get("is_bot") else self._contact(user)
        with self._lock:
            self._contacts[key] = (now, contact)
        return contact

    def send_reminder(self, contact: ChatContact, message: ReminderMessage) -> PostedMessage:
        channel = self._channel(contact.user_id)
        self._pace(channel)
        answer = self._call(
            "chat_postMessage", channel=channel, text=message.fallback_text(), blocks=reminder_blocks(message)
        )
        with self._lock:
            self._last_post[channel] = self._monotonic()
        return PostedMessage(str(answer.get("channel") or channel), str(answer["ts"]))

    def update_reminder(self, posted: PostedMessage, message: ReminderMessage) -> None:
        self._call(
            "chat_update", channel=posted.channel, ts=posted.ts, text=message.fallback_text(),
            blocks=reminder_blocks(message),
        )

    def _contact(self, user: dict[str, Any]) -> ChatContact:
        timezone = user.get("tz")
        if not timezone:  # lookupByEmail usually carries tz; users.info is the authority
            info = self._call("users_info", user=user["id"]).get("user") or {}
            timezone = info.get("tz")
        return ChatContact(user_id=str(user["id"]), timezone=str(timezone) if timezone else None)

    def _channel(self, user_id: str) -> str:
        with self._lock:
            known = self._channels.get(user_id)
        if known is not None:
            return known
        channel = str(self._call("conversations_open", users=user_id)["channel"]["id"])
        with self._lock:
            self._channels[user_id] = channel
        return channel

    def _pace(self, channel: str) -> None:
        with self._lock:
            last = self._last_post.get(channel)
        if last is not None:
            wait = last + self._interval - self._monotonic()
            if wait > 0:
                raise ChatRateLimited(wait)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        try:
            response = getattr(self._client, method)(**arguments)
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                raise ChatRateLimited(_retry_after(error.response.headers)) from None
            code = str(error.response.get("error") or status)
            if code in NOT_FOUND:
                raise _NotFound(code) from None
            raise ChatDeliveryFailed(f"{method}: {code}") from None
        except (OSError, TimeoutError) as error:
            raise ChatDeliveryFailed(f"{method}: {type(error).__name__}") from None
        data: dict[str, Any] = response.data if isinstance(response.data, dict) else {}
        return data


class _NotFound(Exception):
    pass


def _retry_after(headers: Any) -> float:
    raw = None
    if headers:
        raw = headers.get("Retry-After") or headers.get("retry-after")
        if isinstance(raw, list):
            raw = raw[0] if raw else None
    try:
        return max(1.0, float(raw)) if raw is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


def build_reminder_sender(token: str, base_url: str) -> SlackReminderSender:
    """A sender with its own WebClient; no retry handlers, so a 429 never sleeps a thread."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return SlackReminderSender(WebClient(token=token, base_url=base, timeout=10))
