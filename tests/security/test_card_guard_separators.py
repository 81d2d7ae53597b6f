"""Card numbers split by dots, slashes, odd spaces, tabs or newlines are still refused (issue 19, item 9).

Real parts: the whole bot (signed requests into the HTTP app, database, SMTP server, Slack stand-in)
from ``tests/security/full_run.py``.
"""

from __future__ import annotations

import json

import pytest

from billing_core.card_guard import REDACTED, redact_card_numbers
from billing_core.errors import CardNumberInText
from devtools.loopback.slack_signing import select_input_value, text_input_value
from handlers.escalations.payloads import MESSAGE_BLOCK, MESSAGE_INPUT, TOPIC_BLOCK, TOPIC_INPUT
from handlers.kit.errors import CARD_NUMBER_GUIDANCE
from tests.security.full_run import ANN, FullRun

GROUPS = ("4242", "4242", "4242", "4242")
SEPARATED = {
    "dots": ".".join(GROUPS),
    "slashes": "/".join(GROUPS),
    "no-break spaces": "\u00a0".join(GROUPS),
    "narrow no-break spaces": "\u202f".join(GROUPS),
    "double spaces": "  ".join(GROUPS),
    "tabs": "\t".join(GROUPS),
    "newlines": "\n".join(GROUPS),
    "CR LF": "\r\n".join(GROUPS),
    "spaced dashes": " - ".join(GROUPS),
    "en dashes": "\u2013".join(GROUPS),
    "zero-width spaces": "\u200b".join(GROUPS),
    "amex with dots": "3782.822463.10005",
}


@pytest.mark.parametrize("typed", SEPARATED.values(), ids=SEPARATED.keys())
def test_a_separated_card_number_in_the_support_modal_is_refused_and_goes_nowhere(
    full_run: FullRun, typed: str
) -> None:
    values = {
        TOPIC_BLOCK: {TOPIC_INPUT: select_input_value("other", "Something else")},
        MESSAGE_BLOCK: {MESSAGE_INPUT: text_input_value(f"Please charge {typed} exp 12/31")},
    }
    response = full_run.submit_values("support_modal", values, json.dumps({"account": "acme"}))
    assert response.json() == {"response_action": "errors", "errors": {MESSAGE_BLOCK: CARD_NUMBER_GUIDANCE}}
    assert full_run.services.escalations.list_open(ANN) == []
    assert full_run.smtp.messages == []
    digits = "".join(ch for ch in typed if ch.isdigit())
    assert digits not in full_run.everything_sent() and digits not in full_run.everything_stored()


@pytest.mark.parametrize("typed", SEPARATED.values(), ids=SEPARATED.keys())
def test_the_escalation_service_refuses_a_separated_card_number_whoever_calls_it(full_run: FullRun, typed: str) -> None:
    with pytest.raises(CardNumberInText):
        full_run.services.escalations.create(ANN, "acme", "other", f"my card is {typed}")
    assert full_run.services.escalations.list_open(ANN) == []


@pytest.mark.parametrize("typed", SEPARATED.values(), ids=SEPARATED.keys())
def test_a_separated_card_number_is_redacted_from_log_text(typed: str) -> None:
    assert redact_card_numbers(f"message: {typed} ok") == f"message: {REDACTED} ok"


def test_dates_amounts_and_invoice_lists_on_separate_lines_are_still_accepted(full_run: FullRun) -> None:
    full_run.escalate("Invoices:\nINV-1001 due 2026/12/01\nINV-1002 $1,250.00\nPO 1234.5678 call 555 0100")
    [view] = full_run.services.escalations.list_open(ANN)
    assert view.reference.startswith("ESC-")


ODD_DASHES = {
    "em dashes": "\u2014".join(GROUPS),
    "minus signs": "\u2212".join(GROUPS),
    "fullwidth hyphens": "\uff0d".join(GROUPS),
    "small hyphens with spaces": " \ufe63 ".join(GROUPS),
    "fullwidth dots": "\uff0e".join(GROUPS),
}


@pytest.mark.parametrize("typed", ODD_DASHES.values(), ids=ODD_DASHES.keys())
def test_a_card_number_split_by_any_dash_in_the_billing_command_gets_the_guidance_and_goes_nowhere(
    full_run: FullRun, typed: str
) -> None:
    response, url = full_run.command(f"support please charge {typed}")
    assert response.json() == {"response_type": "ephemeral", "text": CARD_NUMBER_GUIDANCE}
    assert full_run.slack.response_url_posts(url) == []
    assert full_run.services.escalations.list_open(ANN) == []
    assert full_run.smtp.messages == []
    assert typed not in full_run.everything_stored() and typed not in full_run.everything_sent()
