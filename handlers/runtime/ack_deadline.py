"""The moment by which Slack must have its answer, shared by the HTTP layer and the ack function.

``bot.web.http`` gives every request an ``AckDeadline`` (through a context variable, so the Bolt
thread sees it). If the ack function has not answered when the deadline passes, the HTTP layer
expires it and sends Slack an empty acknowledgement itself, and whatever the ack function registered
with ``on_expire`` starts at once (a slash command then answers through its ``response_url``).
An ack function that wants to put an answer in the HTTP response first ``claim``s it; exactly one of
``claim`` and ``expire`` wins. This lets a cheap read run in the request thread itself, with no
thread hop, and still never cost Slack's 3 seconds.

Socket Mode has no HTTP layer and no deadline: ``current()`` is ``None`` there.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

# Slack allows 3 s; the rest is for the network and for Slack itself.
ACK_DEADLINE_SECONDS = 2.0


class AckDeadline:
    """Who answers one HTTP request: the ack function (``claim``) or the deadline (``expire``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: str | None = None
        self._on_expire: list[Callable[[], None]] = []

    def claim(self) -> bool:
        """True if the ack function's answer will be the HTTP response (the deadline has not passed)."""
        with self._lock:
            if self._state is None:
                self._state = "claimed"
            return self._state == "claimed"

    def on_expire(self, action: Callable[[], None]) -> None:
        """Run ``action`` if the deadline passes before a ``claim`` (at once, if it already has)."""
        with self._lock:
            if self._state is None:
                self._on_expire.append(action)
                return
            expired = self._state == "expired"
        if expired:
            action()

    def expire(self) -> bool:
        """Called by the HTTP layer when time is up: True if nobody claimed the answer before."""
        with self._lock:
            if self._state is not None:
                return self._state == "expired"
            self._state = "expired"
            actions, self._on_expire = self._on_expire, []
        for action in actions:
            try:
                action()
            except Exception:
                logger.exception("an action for an expired acknowledgement failed")
        return True


_CURRENT: contextvars.ContextVar[AckDeadline | None] = contextvars.ContextVar("ack_deadline", default=None)


def current() -> AckDeadline | None:
    """This request's deadline, or ``None`` when nothing enforces one (Socket Mode, the console)."""
    return _CURRENT.get()


def start() -> tuple[AckDeadline, contextvars.Token[AckDeadline | None]]:
    """A new deadline for the request being handled; pass the token to ``reset`` afterwards."""
    deadline = AckDeadline()
    return deadline, _CURRENT.set(deadline)


def reset(token: contextvars.Token[AckDeadline | None]) -> None:
    _CURRENT.reset(token)
