"""Card numbers typed into Slack are refused with the hosted-page guidance and never echoed,
stored, e-mailed or logged (signed requests into the HTTP app, real database, SMTP and Slack stand-in)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from billing_core.errors import CardNumberInText
from bot.logging_setup import configure_logging, secret_values
from devtools.loopback.slack_signing import select_input_value, text_input_value
from handlers.escalations.payloads import MESSAGE_BLOCK, MESSAGE_INPUT, TOPIC_BLOCK, TOPIC_INPUT
from handlers.kit.errors import CARD_NUMBER_GUIDANCE
from tests.security.full_run import (
    ANN,
    CARD_TYPED,
    VISA,
    FullRun,
)

AMEX = "3782 822463 10005"
DASHED = "4242-4242-4242-4242"
CARD_FORMS = (VISA, CARD_TYPED, DASHED, AMEX, AMEX.replace(" ", ""))


@pytest.fixture
def logs(full_run: FullRun) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    configure_logging(level="DEBUG", secrets=secret_values(full_run.settings), stream=stream)
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "_billing_bot", False):
            root.removeHandler(handler)
    root.setLevel(level)


def assert_nowhere(run: FullRun, logs: io.StringIO, *typed: str) -> None:
    """Not in the database, not in anything sent to Slack or by e-mail, not in the logs."""
    stored, sent, logged = run.everything_stored(), run.everything_sent(), logs.getvalue()
    for text in typed:
        digits = "".join(ch for ch in text if ch.isdigit())
        for place, name in ((stored, "database"), (sent, "Slack or e-mail"), (logged, "logs")):
            assert text not in place and digits not in place, f"card number found in {name}"


@pytest.mark.parametrize("text", [f"pay {CARD_TYPED}", f"pay {VISA}", f"switch {DASHED}", f"support {AMEX} please"])
def test_a_card_number_in_the_billing_command_gets_the_guidance_and_goes_nowhere(
    full_run: FullRun, logs: io.StringIO, text: str
) -> None:
    response, url = full_run.command(text)
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "text": CARD_NUMBER_GUIDANCE}
    assert full_run.slack.response_url_posts(url) == []  # answered in the ack: no listener ran
    assert full_run.services.escalations.list_open(ANN) == []
    assert_nowhere(full_run, logs, text.split(" ", 1)[1])


def test_a_card_number_in_the_support_modal_is_an_inline_error_and_nothing_is_sent(
    full_run: FullRun, logs: io.StringIO
) -> None:
    values = {
        TOPIC_BLOCK: {TOPIC_INPUT: select_input_value("other", "Something else")},
        MESSAGE_BLOCK: {MESSAGE_INPUT: text_input_value(f"Please charge {CARD_TYPED} exp 12/31")},
    }
    response = full_run.submit_values("support_modal", values, json.dumps({"account": "acme"}))
    assert response.json() == {"response_action": "errors", "errors": {MESSAGE_BLOCK: CARD_NUMBER_GUIDANCE}}
    assert full_run.services.escalations.list_open(ANN) == []
    assert full_run.smtp.messages == []
    assert_nowhere(full_run, logs, CARD_TYPED)


def test_ordinary_numbers_are_not_mistaken_for_cards(full_run: FullRun) -> None:
    full_run.escalate("Invoice INV-1 for 125000 cents, PO 1234567890123 (not Luhn), call +1 555 0100.")
    [view] = full_run.services.escalations.list_open(ANN)
    assert view.reference.startswith("ESC-")


@pytest.mark.parametrize("typed", CARD_FORMS)
def test_the_escalation_service_refuses_card_numbers_whoever_calls_it(full_run: FullRun, typed: str) -> None:
    with pytest.raises(CardNumberInText):
        full_run.services.escalations.create(ANN, "acme", "other", f"my card is {typed}")
    with pytest.raises(CardNumberInText):
        full_run.services.escalations.report_already_paid(ANN, "acme", "INV-1", f"paid with {typed}")
    assert full_run.services.escalations.list_open(ANN) == []
    assert VISA not in full_run.everything_stored()
