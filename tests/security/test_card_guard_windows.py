"""A card number typed with its expiry, its code or other digits next to it is still refused
(issue 25, item 1).

The guard used to Luhn-check only the longest run of digits, so ``4242 4242 4242 4242 12/34``
(18 digits that fail the check) went through whole: stored, e-mailed, posted and echoed. Every 13 to
19 digit stretch of a run is checked now. Real parts for the paths a person types into: the whole bot
(signed requests into the HTTP app, database, SMTP server, Slack stand-in) from
``tests/security/full_run.py``; a property test embeds generated Luhn-valid numbers in random text.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from billing_core.card_guard import REDACTED, contains_card_number, luhn_valid, redact_card_numbers
from billing_core.errors import CardNumberInText
from devtools.loopback.slack_signing import select_input_value, text_input_value
from handlers.escalations.payloads import MESSAGE_BLOCK, MESSAGE_INPUT, TOPIC_BLOCK, TOPIC_INPUT
from handlers.kit.errors import CARD_NUMBER_GUIDANCE
from tests.security.full_run import ANN, ANN_ID, FullRun

# How payers paste "card, expiry, code" (the review's shapes, and the other shapes found hunting).
WITH_EXPIRY_OR_CODE = {
    "visa and expiry": "4242 4242 4242 4242 12/34",
    "visa and code": "4242 4242 4242 4242 123",
    "visa unspaced, expiry and code": "4242424242424242 12/34 123",
    "mastercard, expiry and code": "5555 5555 5555 4444 05/28 737",
    "amex 4-6-5 and expiry": "3782 822463 10005 12/34",
    "amex 4-6-5, expiry and code": "3782-822463-10005 12/34 1234",
    "on separate lines": "4242 4242 4242 4242\n12/34\n123",
    "on separate lines, CR LF": "5555 5555 5555 4444\r\n05/28\r\n737",
    "expiry first": "12/34 4242 4242 4242 4242",
    "code glued after the number": "4242424242424242123",
    "split by commas": "4242,4242,4242,4242",
    "split by commas and spaces": "4242, 4242, 4242, 4242, 12, 34",
    "split by plus signs": "4242+4242+4242+4242",
    "expiry with a dot": "4242 4242 4242 4242 12.34",
    "expiry with spaces": "4242 4242 4242 4242 12 34",
    "inside a url": "https://pay.evil.test/?card=4242424242424242&exp=1234",
    "inside a url, encoded spaces": "https://pay.evil.test/?card=4242%204242%204242%204242%2012%2F34",
    "inside a url path": "https://pay.evil.test/c/4242-4242-4242-4242/12-34",
    "inside an e-mail address": "4242424242424242@evil.test",
    "in the local part with a tag": "ann+4242.4242.4242.4242@acme.test",
}
LEFT_ALONE = {
    "invoice numbers": "INV-1001, INV-1002, INV-1003 and INV-1004",
    "amounts": "I paid $1,250.00 and €12,345.67 and 1.234.567,89 EUR",
    "dates": "due 2026-12-01, paid 01/12/2026 and 2026/12/05, card expires 12/34",
    "phone numbers": "call +1 415 555 2671 or +44 20 7946 0958 or (030) 1234-5678",
    "a mixed support message": "Invoices:\nINV-1001 due 2026/12/01\nINV-1002 $1,250.00\nPO 1234.5678 call 555 0100",
    "the last four": "my card ending 4242 expires 12/34",
}


@pytest.mark.parametrize("typed", WITH_EXPIRY_OR_CODE.values(), ids=WITH_EXPIRY_OR_CODE.keys())
def test_a_card_number_with_its_expiry_code_or_surroundings_is_found_and_removed_with_them(typed: str) -> None:
    text = f"hi, please use {typed} thanks"
    assert contains_card_number(text)
    redacted = redact_card_numbers(text)
    assert REDACTED in redacted and not contains_card_number(redacted)
    assert not re.search(r"\d{4}\D{0,3}\d{4}\D{0,3}\d{4}", redacted)


@pytest.mark.parametrize("typed", LEFT_ALONE.values(), ids=LEFT_ALONE.keys())
def test_invoice_numbers_amounts_dates_and_phone_numbers_are_left_alone(typed: str) -> None:
    assert not contains_card_number(typed)
    assert redact_card_numbers(typed) == typed


def _luhn_complete(body: str) -> str:
    """``body`` with the check digit that makes it Luhn-valid."""
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


SEPARATORS = [
    " ",
    "  ",
    "-",
    " - ",
    ".",
    ",",
    ", ",
    "/",
    "\n",
    "\r\n",
    "\t",
    "\u00a0",
    "\u2013",
    "\u2014",
    "\u200b",
    "_",
    "+",
    "%20",
    "%2D",
    "\n\n",
]


@st.composite
def card_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """``(digits, typed)``: a Luhn-valid 13-19 digit number and how it is typed (random groups and separators,
    sometimes followed by an expiry and a code)."""
    length = draw(st.integers(13, 19))
    digits = _luhn_complete(draw(st.text("0123456789", min_size=length - 1, max_size=length - 1)))
    groups, rest = [], digits
    while rest:
        size = draw(st.integers(1, 8))
        groups.append(rest[:size])
        rest = rest[size:]
    typed = groups[0]
    for group in groups[1:]:
        typed += draw(st.sampled_from(SEPARATORS)) + group
    if draw(st.booleans()):
        typed += draw(st.sampled_from(SEPARATORS)) + draw(
            st.sampled_from(["12/34", "05 28", "1234", "123", "07.29 737"])
        )
    return digits, typed


TEMPLATES = [
    "{}",
    "card {} thanks",
    "{}@evil.test",
    "https://pay.evil.test/?n={}&x=1",
    "mailto:a+{}@b.test",
    "(see {})",
    '"{}"',
    "pay INV-1001 with {}",
    "12/34 {}",
    "{}\nexp 12/34\ncvc 123",
]


@settings(max_examples=2000, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    card=card_numbers(), template=st.sampled_from(TEMPLATES), before=st.text(max_size=40), after=st.text(max_size=40)
)
def test_any_luhn_valid_number_in_any_text_with_any_separators_is_found_and_removed(
    card: tuple[str, str], template: str, before: str, after: str
) -> None:
    digits, typed = card  # the digits stay together wherever the run goes: contains_card_number(redacted) says so
    assume(not re.search(r"%[0-9A-Fa-f]?$", before))  # "%2" before "0…" would be the URL escape "%20"
    text = before + " " + template.format(typed) + " " + after
    assert contains_card_number(text)
    redacted = redact_card_numbers(text)
    assert REDACTED in redacted and not contains_card_number(redacted)
    assert typed not in redacted and digits not in redacted


def test_a_megabyte_of_ordinary_numbers_is_left_alone_and_a_card_at_its_end_is_still_found() -> None:
    ordinary = "INV-1001 due 2026-12-01, $1,250.00, call +1 415 555 2671\n" * 20_000
    assert not contains_card_number(ordinary)
    assert contains_card_number(ordinary + "card 4242 4242 4242 4242 12/34")
    assert redact_card_numbers(ordinary + "card 4242 4242 4242 4242 12/34") == ordinary + f"card {REDACTED}"


# The paths a payer's typed text takes, through the real app.
REVIEW_SHAPES = [
    WITH_EXPIRY_OR_CODE[key]
    for key in (
        "visa and expiry",
        "visa unspaced, expiry and code",
        "mastercard, expiry and code",
        "amex 4-6-5 and expiry",
        "on separate lines",
        "split by commas and spaces",
        "inside a url",
    )
]


def _never_left(full_run: FullRun, typed: str) -> None:
    digits = "".join(ch for ch in typed if ch.isdigit())
    for kept in (full_run.everything_stored(), full_run.everything_sent()):
        assert typed not in kept and digits[:15] not in kept
        assert typed.replace("\n", "\\n") not in kept and digits[:15] not in kept.replace(" ", "")


@pytest.mark.parametrize("typed", REVIEW_SHAPES)
def test_a_card_with_its_expiry_in_the_support_modal_is_refused_and_goes_nowhere(
    full_run: FullRun,
    typed: str,
) -> None:
    values = {
        TOPIC_BLOCK: {TOPIC_INPUT: select_input_value("other", "Something else")},
        MESSAGE_BLOCK: {MESSAGE_INPUT: text_input_value(f"Please charge {typed}")},
    }
    response = full_run.submit_values("support_modal", values, json.dumps({"account": "acme"}))
    assert response.json() == {"response_action": "errors", "errors": {MESSAGE_BLOCK: CARD_NUMBER_GUIDANCE}}
    assert full_run.services.escalations.list_open(ANN) == [] and full_run.smtp.messages == []
    _never_left(full_run, typed)


@pytest.mark.parametrize("typed", REVIEW_SHAPES)
def test_the_escalation_service_refuses_a_card_with_its_expiry_whoever_calls_it(
    full_run: FullRun,
    typed: str,
) -> None:
    with pytest.raises(CardNumberInText):
        full_run.services.escalations.create(ANN, "acme", "other", f"my card is {typed}")
    with pytest.raises(CardNumberInText):
        full_run.services.escalations.report_already_paid(ANN, "acme", "INV-1001", f"paid with {typed}")
    assert full_run.services.escalations.list_open(ANN) == []
    _never_left(full_run, typed)


@pytest.mark.parametrize("typed", REVIEW_SHAPES)
def test_billing_pay_with_a_card_and_its_expiry_gets_the_guidance_and_echoes_nothing(
    full_run: FullRun,
    typed: str,
) -> None:
    response, url = full_run.command(f"pay {typed}")
    assert response.json() == {"response_type": "ephemeral", "text": CARD_NUMBER_GUIDANCE}
    assert full_run.slack.response_url_posts(url) == []
    _never_left(full_run, typed)


@pytest.mark.parametrize("typed", REVIEW_SHAPES)
def test_a_card_with_its_expiry_typed_in_the_dm_gets_the_warning_and_is_never_echoed(
    full_run: FullRun,
    typed: str,
) -> None:
    event = {
        "type": "message",
        "channel": f"D{ANN_ID}",
        "channel_type": "im",
        "user": ANN_ID,
        "ts": f"{time.time():.6f}",
        "text": f"pay {typed}",
        "team": "T111",
    }
    assert full_run.event(event).status_code == 200
    [answer] = full_run.wait_calls("chat.postMessage", 1)
    assert "card number" in json.dumps(answer.json_args).lower()
    _never_left(full_run, typed)
