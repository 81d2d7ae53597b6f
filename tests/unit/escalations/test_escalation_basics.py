"""Pure pieces of escalations: references, message cleaning, SMTP URLs, retry delays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing_core.adapters.smtp import SmtpMailer, parse_smtp_url
from billing_core.errors import ConfigurationError, EscalationMessageEmpty, EscalationMessageTooLong
from billing_core.escalations.outbox import RetryPolicy
from billing_core.escalations.service import validate_message
from billing_core.escalations.views import clean_message, format_reference, parse_reference


def test_references_are_zero_padded_to_six_digits_and_read_back() -> None:
    assert format_reference(123) == "ESC-000123"
    assert format_reference(1234567) == "ESC-1234567"
    assert parse_reference("ESC-000123") == 123
    assert parse_reference(" esc000123 ") == 123
    assert parse_reference("INV-1") is None
    assert parse_reference("") is None


def test_messages_lose_control_characters_but_keep_lines() -> None:
    assert clean_message("  a\r\nb\x00c\u202e\td  ") == "a\nbc\td"


def test_empty_and_oversized_messages_are_refused() -> None:
    with pytest.raises(EscalationMessageEmpty):
        validate_message(" \n ")
    with pytest.raises(EscalationMessageEmpty):
        validate_message(None)
    with pytest.raises(EscalationMessageTooLong):
        validate_message("é" * 2001)
    assert validate_message("é" * 2000) == "é" * 2000


def test_smtp_urls_give_host_port_tls_mode_and_credentials() -> None:
    plain = parse_smtp_url("smtp://mail.test:2525")
    secure = parse_smtp_url("smtps://bot%40x.test:p%3Ass@mail.test:465")
    assert (plain.host, plain.port, plain.use_ssl, plain.username) == ("mail.test", 2525, False, None)
    assert (secure.use_ssl, secure.username, secure.password) == (True, "bot@x.test", "p:ss")
    assert parse_smtp_url("smtps://mail.test").port == 465
    assert "p:ss" not in repr(secure)


@pytest.mark.parametrize("url", ["http://mail.test", "smtp://", "mail.test:25", "smtp://h:notaport"])
def test_a_bad_smtp_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError):
        SmtpMailer.from_url(url)


def test_retry_delays_double_and_are_capped() -> None:
    policy = RetryPolicy()
    assert [policy.delay(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert policy.delay(20) == timedelta(hours=1)
