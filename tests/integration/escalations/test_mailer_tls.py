"""SmtpMailer's TLS paths against a real aiosmtpd server on 127.0.0.1 with a certificate from a CA
made in the test (openssl): STARTTLS and SMTPS, each with login.

The mailer trusts that CA only when told to (``SMTP_CA_FILE``); by default it uses the system trust
store and checks the host name, so the same server is refused and nothing is sent.
"""

from __future__ import annotations

import email
import email.policy
import logging
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from billing_core.adapters.smtp import SmtpMailer
from billing_core.errors import ConfigurationError
from billing_core.mail import MailDeliveryError
from devtools.loopback.server import Serving
from tests.support.escalations import ANN, SAMPLE
from tests.support.localstripe_server import free_port
from tests.support.services import MakeServices

logging.getLogger("mail.log").setLevel(logging.CRITICAL)

USER, PASSWORD = "billing-bot", "s3cret p@ss"
URL_PASSWORD = "s3cret%20p%40ss"


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    other_host_cert: Path
    other_host_key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway CA, a server certificate for 127.0.0.1, and one for another host name."""
    d = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        str(d / "ca.key"),
        "-out",
        str(d / "ca.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=billing-bot test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )

    def issue(name: str, san: str) -> tuple[Path, Path]:
        key, csr, cert, ext = (d / f"{name}.{suffix}" for suffix in ("key", "csr", "pem", "ext"))
        _openssl("req", "-new", *ec, "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
        ext.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        _openssl(
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(d / "ca.pem"),
            "-CAkey",
            str(d / "ca.key"),
            "-CAcreateserial",
            "-out",
            str(cert),
            "-days",
            "2",
            "-extfile",
            str(ext),
        )
        return cert, key

    server_cert, server_key = issue("smtp-local", "IP:127.0.0.1,DNS:localhost")
    other_cert, other_key = issue("smtp-elsewhere", "DNS:smtp.elsewhere.test")
    return Pki(d / "ca.pem", server_cert, server_key, other_cert, other_key)


@dataclass(frozen=True)
class Received:
    message: EmailMessage
    login: str | None
    tls_version: str | None
    rcpt_tos: list[str]


class TlsSmtpServer(Serving):
    """aiosmtpd on 127.0.0.1 speaking STARTTLS (``mode='starttls'``, required before AUTH and MAIL) or
    implicit TLS (``mode='smtps'``); AUTH required with one username and password."""

    def __init__(self, mode: str, cert: Path, key: Path) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        self.port = free_port()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {"authenticator": self._authenticate}
        if mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True, auth_require_tls=True)
        else:  # aiosmtpd cannot tell that an implicit-TLS socket is encrypted; we check it in DATA
            kwargs.update(ssl_context=context, auth_require_tls=False)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> TlsSmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == USER
            and auth_data.password.decode() == PASSWORD
        )
        return AuthResult(success=ok, handled=False, auth_data=USER if ok else None)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        ssl_object = server.transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return "554 5.7.0 Plain-text session refused by this test server"
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        with self._lock:
            self.received.append(Received(message, login, ssl_object.version(), list(envelope.rcpt_tos)))
        return "250 Message accepted"


def a_message(subject: str = "[ESC-000042] Something else: Acme Corp") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "billing-bot@vendor.test"
    message["To"] = "support@vendor.test"
    message["Reply-To"] = "ann@acme.test"
    message.set_content("Hello support")
    return message


@pytest.fixture
def starttls(pki: Pki) -> Iterator[TlsSmtpServer]:
    with TlsSmtpServer("starttls", pki.server_cert, pki.server_key) as server:
        yield server


@pytest.fixture
def smtps(pki: Pki) -> Iterator[TlsSmtpServer]:
    with TlsSmtpServer("smtps", pki.server_cert, pki.server_key) as server:
        yield server


def test_starttls_with_login_delivers_over_an_encrypted_session_when_the_ca_is_trusted(
    pki: Pki, starttls: TlsSmtpServer
) -> None:
    mailer = SmtpMailer.from_url(f"smtp://{USER}:{URL_PASSWORD}@127.0.0.1:{starttls.port}", ca_file=str(pki.ca))

    mailer.send(a_message())

    [got] = starttls.received
    assert got.login == USER
    assert got.tls_version is not None and got.tls_version.startswith("TLSv1.")
    assert got.rcpt_tos == ["support@vendor.test"]
    assert got.message["Subject"] == "[ESC-000042] Something else: Acme Corp"
    assert got.message["Reply-To"] == "ann@acme.test"


def test_smtps_with_login_delivers_over_implicit_tls_when_the_ca_is_trusted(pki: Pki, smtps: TlsSmtpServer) -> None:
    mailer = SmtpMailer.from_url(f"smtps://{USER}:{URL_PASSWORD}@127.0.0.1:{smtps.port}", ca_file=str(pki.ca))

    mailer.send(a_message())

    [got] = smtps.received
    assert got.login == USER and got.tls_version is not None
    assert got.message.get_content().strip() == "Hello support"


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
def test_by_default_a_server_whose_certificate_the_system_does_not_trust_is_refused_and_nothing_is_sent(
    pki: Pki, scheme: str
) -> None:
    mode = "starttls" if scheme == "smtp" else "smtps"
    with TlsSmtpServer(mode, pki.server_cert, pki.server_key) as server:
        mailer = SmtpMailer.from_url(f"{scheme}://{USER}:{URL_PASSWORD}@127.0.0.1:{server.port}")
        with pytest.raises(MailDeliveryError) as refused:
            mailer.send(a_message())
        assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
        assert not refused.value.permanent  # retried later: the outbox keeps the escalation queued
        assert server.received == []


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
def test_a_certificate_from_the_trusted_ca_but_for_another_host_name_is_refused(pki: Pki, scheme: str) -> None:
    mode = "starttls" if scheme == "smtp" else "smtps"
    with TlsSmtpServer(mode, pki.other_host_cert, pki.other_host_key) as server:
        mailer = SmtpMailer.from_url(f"{scheme}://{USER}:{URL_PASSWORD}@127.0.0.1:{server.port}", ca_file=str(pki.ca))
        with pytest.raises(MailDeliveryError) as refused:
            mailer.send(a_message())
        assert "mismatch" in str(refused.value)
        assert server.received == []


def test_a_wrong_password_over_tls_is_a_permanent_failure(pki: Pki, starttls: TlsSmtpServer) -> None:
    mailer = SmtpMailer.from_url(f"smtp://{USER}:wrong@127.0.0.1:{starttls.port}", ca_file=str(pki.ca))

    with pytest.raises(MailDeliveryError) as refused:
        mailer.send(a_message())

    assert refused.value.permanent and "535" in str(refused.value)
    assert starttls.received == []


def test_smtp_ca_file_reaches_the_escalation_outbox_which_emails_support_over_smtps(
    pki: Pki, smtps: TlsSmtpServer, make_services: MakeServices
) -> None:
    services = make_services(
        accounts=SAMPLE,
        SMTP_URL=f"smtps://{USER}:{URL_PASSWORD}@127.0.0.1:{smtps.port}",
        SMTP_CA_FILE=str(pki.ca),
        SUPPORT_EMAIL="support@vendor.test",
        SMTP_FROM="billing-bot@vendor.test",
    )
    assert services.escalations is not None
    view = services.escalations.create(ANN, "acme", "other", "Sent over TLS", invoice_number="INV-1001")

    counts = services.escalations.outbox.deliver_due()

    assert counts.sent == 1
    [got] = smtps.received
    assert got.message["Subject"] == f"[{view.reference}] Something else: Acme Corp"
    assert got.message["From"] == "billing-bot@vendor.test" and got.message["To"] == "support@vendor.test"
    assert got.login == USER and got.tls_version is not None


def test_an_unreadable_smtp_ca_file_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SMTP_CA_FILE"):
        SmtpMailer.from_url("smtps://127.0.0.1:465", ca_file=str(tmp_path / "missing.pem"))


def test_the_password_is_never_sent_in_clear_text_to_a_remote_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that does not offer STARTTLS (or an attacker who stripped it) gets no login."""
    import smtplib

    from billing_core.adapters.smtp import SmtpMailer
    from billing_core.mail import MailDeliveryError

    logins: list[str] = []

    class PlainServer:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            self.host = host

        def __enter__(self) -> PlainServer:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def ehlo(self) -> None:
            return None

        def has_extn(self, name: str) -> bool:
            return False

        def login(self, user: str, password: str) -> None:
            logins.append(password)

        def send_message(self, message: object) -> None:
            return None

    monkeypatch.setattr(smtplib, "SMTP", PlainServer)
    mailer = SmtpMailer.from_url("smtp://user:hunter2@mail.example.net:587")
    from email.message import EmailMessage

    with pytest.raises(MailDeliveryError, match="without TLS"):
        mailer.send(EmailMessage())
    assert logins == []
