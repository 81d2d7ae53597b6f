"""The outgoing-mail port (escalations to billing support, receipts to payers, identity codes). The SMTP adapter
(``SMTP_URL``) is in ``billing_core.adapters.smtp``."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class MailDeliveryError(Exception):
    """The message was not accepted. ``permanent`` means retrying the same message will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the mail server; raise ``MailDeliveryError`` if it is not accepted."""
        ...
