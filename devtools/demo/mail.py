"""An SMTP server on 127.0.0.1 for the demo that shows each e-mail the bot sends, then drops it.

Needs aiosmtpd (a dev dependency); without it the demo runs with ``SMTP_URL`` unset and
escalations stay queued in the database.
"""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Callable
from typing import Any

from devtools.demo.localstripe import free_port


class DemoMailSink:
    """Receives mail and calls ``announce`` with one line per message."""

    def __init__(self, announce: Callable[[str], None]) -> None:
        self._announce = announce
        self._controller: Any = None
        self.port = 0

    @staticmethod
    def available() -> bool:
        try:
            import aiosmtpd.controller  # noqa: F401
        except ImportError:
            return False
        return True

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> DemoMailSink:
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.ERROR)
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.received(list(envelope.rcpt_tos), bytes(envelope.content))
                return "250 Message accepted"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def received(self, recipients: list[str], raw: bytes) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(message.get("Subject", ""))
        self._announce(f"✉ e-mail sent to {', '.join(recipients)}: {subject}")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
