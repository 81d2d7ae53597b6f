"""The SMTP sink collects mail and can go down and come back on the same port."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from tests.support.smtp_sink import SmtpSink


def _message(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "billing-bot@localhost"
    msg["To"] = "billing@example.com"
    msg["Reply-To"] = "ann@acme.test"
    msg["Subject"] = subject
    msg.set_content("Hello,\nplease help.\n")
    return msg


def test_a_message_sent_with_smtplib_is_collected(smtp_sink: SmtpSink) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5) as smtp:
        smtp.send_message(_message("[ESC-000001] Payment: Acme"))
    (msg,) = smtp_sink.wait_for(1)
    assert msg["Subject"] == "[ESC-000001] Payment: Acme"
    assert msg["Reply-To"] == "ann@acme.test"
    assert "please help" in msg.get_content()
    assert smtp_sink.received[0].rcpt_tos == ["billing@example.com"]


def test_the_sink_survives_a_restart_on_the_same_port(smtp_sink: SmtpSink) -> None:
    port = smtp_sink.port
    smtp_sink.stop()
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", port, timeout=2)
    smtp_sink.start()
    assert smtp_sink.port == port
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(_message("after restart"))
    assert smtp_sink.wait_for(1)[0]["Subject"] == "after restart"


def test_a_rejection_can_be_injected(smtp_sink: SmtpSink) -> None:
    smtp_sink.reject_next("451 4.3.0 Try again later")
    with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5) as smtp:
        with pytest.raises(smtplib.SMTPDataError):
            smtp.send_message(_message("first"))
        smtp.send_message(_message("second"))
    assert [m["Subject"] for m in smtp_sink.wait_for(1)] == ["second"]


def test_auth_login_is_required_when_credentials_are_configured() -> None:
    with SmtpSink(username="bot", password="s3cret") as sink:
        assert sink.url == f"smtp://bot:s3cret@127.0.0.1:{sink.port}"
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp, pytest.raises(smtplib.SMTPException):
            smtp.send_message(_message("anonymous"))
        with (
            smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp,
            pytest.raises(smtplib.SMTPAuthenticationError),
        ):
            smtp.login("bot", "wrong")
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
            smtp.login("bot", "s3cret")
            smtp.send_message(_message("authenticated"))
        sink.wait_for(1)
        assert sink.received[0].login == "bot"
