"""Outbound events on the ``email`` channel (receipts), handed to the SMTP mailer."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from billing_core.escalations.mailer import MailDeliveryError, Mailer
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
        message = build(event_id, json.loads(body)["data"])
        try:
            self._mailer.send(message)
        except MailDeliveryError as error:
            return Attempt(ok=False, error=str(error)[:500], permanent=error.permanent)
        return Attempt(ok=True)
