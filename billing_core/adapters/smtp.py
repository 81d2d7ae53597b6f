"""The SMTP adapter of the outgoing-mail port ``billing_core.mail.Mailer``
(``SMTP_URL``: ``smtp://host:port`` or ``smtps://user:pass@host:port``)."""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from billing_core.errors import ConfigurationError
from billing_core.mail import MailDeliveryError


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    use_ssl: bool
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never show the password
        scheme = "smtps" if self.use_ssl else "smtp"
        user = f"{self.username}:***@" if self.username else ""
        return f"SmtpTarget({scheme}://{user}{self.host}:{self.port})"


def parse_smtp_url(url: str) -> SmtpTarget:
    """Read ``smtp://[user:pass@]host[:port]`` or ``smtps://...``; ``ConfigurationError`` otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise ConfigurationError("SMTP_URL is not a valid smtp:// or smtps:// URL") from error
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigurationError("SMTP_URL must look like smtp://host:port or smtps://user:pass@host:port")
    use_ssl = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if use_ssl else 25),
        use_ssl=use_ssl,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The client TLS context: certificate and hostname verified against the system trust store, or
    against ``ca_file`` only (``SMTP_CA_FILE``: a PEM bundle, e.g. a company relay's private CA)."""
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(f"SMTP_CA_FILE {ca_file!r} is not a readable PEM certificate bundle") from error


class SmtpMailer:
    """Sends with smtplib: SSL for ``smtps``, STARTTLS when the server offers it, login when
    credentials are given. Every network step has a timeout, so a hung server cannot hang a worker."""

    def __init__(self, target: SmtpTarget, *, timeout: float = 15.0, tls_context: ssl.SSLContext | None = None):
        self.target = target
        self._timeout = timeout
        self._tls = tls_context or ssl.create_default_context()

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 15.0, ca_file: str | None = None) -> SmtpMailer:
        """The mailer for ``SMTP_URL``; ``ca_file`` replaces the system trust store (see ``tls_context``)."""
        return cls(parse_smtp_url(url), timeout=timeout, tls_context=tls_context(ca_file))

    def send(self, message: EmailMessage) -> None:
        target = self.target
        try:
            smtp: smtplib.SMTP
            if target.use_ssl:
                smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=self._timeout, context=self._tls)
            else:
                smtp = smtplib.SMTP(target.host, target.port, timeout=self._timeout)
            with smtp:
                smtp.ehlo()
                encrypted = target.use_ssl
                if not target.use_ssl and smtp.has_extn("starttls"):
                    smtp.starttls(context=self._tls)
                    smtp.ehlo()
                    encrypted = True
                if target.username is not None and not encrypted and not _is_loopback(target.host):
                    # A server (or someone in between) that hides STARTTLS must not get the password.
                    raise MailDeliveryError("refusing to log in without TLS to a remote SMTP server")
                if target.username is not None:
                    smtp.login(target.username, target.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailDeliveryError(f"recipients refused: {codes}", permanent=all(c >= 500 for c in codes)) from error
        except smtplib.SMTPResponseException as error:
            raise MailDeliveryError(
                f"SMTP {error.smtp_code}: {_text(error.smtp_error)}", permanent=error.smtp_code >= 500
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            # Refused connections, timeouts, TLS failures, dropped sessions: try again later.
            raise MailDeliveryError(f"{type(error).__name__}: {error}") from error


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
