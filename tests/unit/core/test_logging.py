from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logging_setup import JsonFormatter, RedactingFilter, new_correlation_id


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(["super-secret-signing-value"]))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.redaction")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_tokens_keys_and_card_numbers_never_reach_the_log(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info(
        "calling with %s and %s, secret %s, card %s, smtp %s",
        "xoxb-123-456-abc",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "super-secret-signing-value",
        "4242 4242 4242 4242",
        "smtps://user:hunter2@mail:465",
    )
    text = stream.getvalue()
    for leaked in ("xoxb-123", "sk_test_4eC", "super-secret-signing-value", "4242 4242", "hunter2"):
        assert leaked not in text


def test_json_lines_carry_the_correlation_id(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    cid = new_correlation_id()
    logger.info("hello")
    line = json.loads(stream.getvalue().strip())
    assert line["correlation_id"] == cid and line["message"] == "hello"


def test_secrets_inside_exception_messages_are_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise RuntimeError("auth failed for xoxb-999-888-zzz")
    except RuntimeError:
        logger.exception("boom")
    assert "xoxb-999" not in stream.getvalue() and "RuntimeError" in stream.getvalue()
