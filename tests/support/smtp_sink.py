"""An SMTP server on 127.0.0.1 that keeps every message it receives.

Built on aiosmtpd's threaded :class:`~aiosmtpd.controller.Controller`.  The
port is chosen once and kept across :meth:`SmtpSink.stop` /
:meth:`SmtpSink.start`, so "mail server down" is simply::

    sink.stop()      # connections are refused now
    ...
    sink.start()     # same port, same SMTP_URL, collecting again

Optional ``AUTH LOGIN``/``PLAIN`` (without TLS) with one username/password,
and programmable rejections (``reject_next``) for transient-failure tests.
"""

from __future__ import annotations

import email
import email.policy
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from devtools.loopback.server import Serving
from tests.support.localstripe_server import free_port

__all__ = ["ReceivedMail", "SmtpSink"]

# aiosmtpd's "mail.log" logs every connection and command; keep test output quiet.
logging.getLogger("mail.log").setLevel(logging.ERROR)


def part_text(message: EmailMessage, subtype: str = "plain") -> str:
    """The content of the message's ``text/<subtype>`` part, which must be there."""
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted SMTP transaction."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    login: str | None
    at: float = field(default_factory=time.time)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        # AUTH is enforced here rather than with aiosmtpd's ``auth_required``,
        # which warns on every connection when TLS is not required.
        if self.sink.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.sink._deliver(session, envelope)


class SmtpSink(Serving):
    """Collecting SMTP server.

    :param username: when set (with ``password``), AUTH is required and only
        these credentials are accepted.
    :param port: fixed port; default: a free one, chosen at first start.
    """

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        port: int | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.username = username
        self.password = password
        self.port: int = port or free_port()
        self.host = "127.0.0.1"
        self._lock = threading.Condition()
        self._received: list[ReceivedMail] = []
        self._rejections: deque[str] = deque()
        self._controller: Any = None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> SmtpSink:
        """Start listening on :attr:`port` (the same port on every start)."""
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {}
        if self.username is not None:
            kwargs.update(
                auth_require_tls=False,
                authenticator=self._authenticate,
            )
        controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        deadline = time.monotonic() + 5
        while True:
            try:
                controller.start()
                break
            except OSError:  # port still in TIME_WAIT/being released
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening: connections to :attr:`port` are refused until :meth:`start`."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        """True while listening."""
        return self._controller is not None

    @property
    def url(self) -> str:
        """``smtp://[user:pass@]127.0.0.1:PORT`` (plain SMTP, no TLS), for ``SMTP_URL``."""
        creds = f"{self.username}:{self.password}@" if self.username is not None else ""
        return f"smtp://{creds}{self.host}:{self.port}"

    # -- faults ----------------------------------------------------------

    def reject_next(self, reply: str = "451 4.3.0 Try again later", count: int = 1) -> None:
        """Answer the next ``count`` DATA commands with ``reply`` instead of accepting."""
        with self._lock:
            self._rejections.extend([reply] * count)

    # -- inspection ------------------------------------------------------

    @property
    def messages(self) -> list[EmailMessage]:
        """Accepted messages, oldest first."""
        with self._lock:
            return [r.message for r in self._received]

    @property
    def received(self) -> list[ReceivedMail]:
        """Accepted transactions with envelope data, oldest first."""
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages arrived; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} message(s), got {len(self._received)}")
                self._lock.wait(remaining)
            return [r.message for r in self._received]

    def clear(self) -> None:
        """Forget received messages and pending rejections."""
        with self._lock:
            self._received.clear()
            self._rejections.clear()

    # -- aiosmtpd callbacks (controller thread) ----------------------------

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login.decode() == self.username and auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)

    def _deliver(self, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._rejections:
                return self._rejections.popleft()
            raw: bytes = envelope.original_content or envelope.content
            if isinstance(raw, str):
                raw = raw.encode()
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            login = session.auth_data if isinstance(getattr(session, "auth_data", None), str) else None
            self._received.append(
                ReceivedMail(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=message,
                    raw=raw,
                    login=login,
                )
            )
            self._lock.notify_all()
        return "250 Message accepted for delivery"
