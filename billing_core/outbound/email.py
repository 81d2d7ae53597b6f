"""Outbound events on the ``email`` channel (receipts), handed to the SMTP mailer.

A message that cannot be built or serialised (a header value Python refuses, data of the wrong
shape) will never be sent however often it is tried: it is a permanent failure, so the event is
``failed`` at once, seen by ``/healthz``, ``/metrics`` and ``webhooks retry --failed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from email.errors import MessageError
from email.message import EmailMessage
from typing import Any

from billing_core.mail import MailDeliveryError, Mailer
from billing_core.outbound.delivery import Attempt

Builder = Callable[[str, dict[str, Any]], EmailMessage]


class EmailChannel:
    """Sends each event's message, built by the builder registered for its type."""

    channel = "email"

    def __init__(self, mailer: Mailer, builders: dict[str, Builder], *, concurrency: int = 2) -> None:
        self._mailer = mailer
        self._builders = builders
        self.concurrency = concurrency

    def send(self, event_id: str, event_type: str, body: str, now: int) -> Attempt:
        build = self._builders.get(event_type)
        if build is None:
            return Attempt(ok=False, error=f"no e-mail for events of type {event_type}", permanent=True)
        try:
            message = build(event_id, json.loads(body)["data"])
        except Exception as error:  # any error building it is as final as a malformed address
            return _unbuildable(error)
        try:
            self._mailer.send(message)
        except MailDeliveryError as error:
            return Attempt(ok=False, error=str(error)[:500], permanent=error.permanent)
        except (ValueError, TypeError, LookupError, MessageError) as error:  # serialising the message
            return _unbuildable(error)
        return Attempt(ok=True)


def _unbuildable(error: Exception) -> Attempt:
    return Attempt(
        ok=False, error=f"the e-mail could not be built: {type(error).__name__}: {error}"[:500], permanent=True
    )
