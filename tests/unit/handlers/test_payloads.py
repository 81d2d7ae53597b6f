"""The values the app writes into Slack, read back: ours round-trip, anything else is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from devtools.loopback.slack_signing import (
    block_actions_payload,
    button_action,
    select_input_value,
    static_select_action,
    text_input_value,
    view_submission_payload,
)
from handlers.escalations import payloads as support_form
from handlers.escalations.payloads import EscalationRef, SupportSubmission
from handlers.identity.payloads import typed_code
from handlers.kit.errors import OUT_OF_DATE, MalformedPayload, is_forgery_suspect, is_stale, user_message
from handlers.kit.payloads import AccountRef, HistoryPage, PayTarget, SupportTarget, SwitchChoice
from handlers.payments.payloads import MethodTarget, PayModalMetadata, PaySubmission
from handlers.reminders.payloads import InvoiceRef, SnoozeTarget


def clicked(value: str) -> dict[str, Any]:
    return block_actions_payload(button_action("any", value))


def pay_submitted(metadata: str, method: str | None) -> dict[str, Any]:
    return view_submission_payload(
        "pay_modal", {"pay_method": {"pay_method_select": select_input_value(method)}}, metadata
    )


# -- what the builders write --------------------------------------------------------------


def test_a_pay_button_writes_compact_sorted_json_without_the_unused_target() -> None:
    assert PayTarget.of("acme", "INV-1").encode() == '{"account":"acme","invoice":"INV-1"}'
    assert PayTarget.of("acme", None).encode() == '{"account":"acme","balance":true}'


def test_every_value_written_reads_back_as_the_same_value() -> None:
    values = [
        AccountRef(account="acme"),
        HistoryPage(account="acme", page=3),
        PayTarget.of("acme", "INV-1"),
        SupportTarget(account="acme", invoice="", topic="payment_declined"),
        MethodTarget(account="acme", method="pm_1"),
        InvoiceRef(account="acme", invoice="INV-1"),
        SnoozeTarget(invoices=[("acme", "INV-1"), ("globex", "G-7")]),
        SnoozeTarget(account="acme", invoice="INV-1"),
    ]
    for value in values:
        assert type(value).read(clicked(value.encode())) == value


def test_every_value_is_written_as_compact_json_with_sorted_keys() -> None:
    values = [
        HistoryPage(account="acme", page=0),
        SupportTarget(account="acme", invoice="INV-1", topic="x"),
        MethodTarget(account="acme", method="pm_1"),
        PayModalMetadata(account="acme", balance=True, expected=5),
        PayModalMetadata(account="acme", invoice="INV-1"),
        SnoozeTarget(invoices=[("acme", "INV-1")]),
    ]
    for value in values:
        written = value.encode()
        assert written == json.dumps(json.loads(written), sort_keys=True, separators=(",", ":"))


def test_the_pay_modal_metadata_and_the_chosen_card_read_back_as_one_submission() -> None:
    metadata = PayModalMetadata(account="acme", balance=True, expected=175050).encode()

    submission = PaySubmission.read(pay_submitted(metadata, "pm_1"))

    assert (submission.target.account, submission.target.expected, submission.method) == ("acme", 175050, "pm_1")


def test_the_account_select_and_the_resolve_button_carry_plain_text() -> None:
    assert SwitchChoice(account="globex").encode() == "globex"
    chosen = block_actions_payload(static_select_action("switch_account", "globex"))
    assert SwitchChoice.read(chosen).account == "globex"
    assert EscalationRef.read(clicked("ESC-000001")).reference == "ESC-000001"


def test_a_written_value_cannot_be_changed_in_place() -> None:
    value = AccountRef(account="acme")
    with pytest.raises(ValidationError):
        value.account = "initech"  # type: ignore[misc]


# -- what is refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "[1, 2]",
        "",
        "null",
        '"acme"',
        '{"account": ""}',
        '{"account": "acme", "admin": true}',
        '{"account": 7}',
        '{"account": ["acme"]}',
    ],
)
def test_garbage_or_a_value_with_keys_we_never_write_is_refused(raw: str) -> None:
    with pytest.raises(MalformedPayload):
        AccountRef.read(clicked(raw))


@pytest.mark.parametrize(
    "raw",
    [
        '{"account": "acme"}',
        '{"account": "acme", "invoice": "INV-1", "balance": true}',
        '{"account": "acme", "balance": false}',
        '{"account": "acme", "balance": "true"}',
        '{"account": "acme", "balance": 1}',
        '{"account": "acme", "invoice": ""}',
    ],
)
def test_a_pay_button_must_name_exactly_one_invoice_or_the_balance_without_coercion(raw: str) -> None:
    with pytest.raises(MalformedPayload):
        PayTarget.read(clicked(raw))


@pytest.mark.parametrize("page", ['"2"', "-1", "true", "1000000", "1.5"])
def test_a_history_page_that_is_not_a_small_whole_number_is_refused(page: str) -> None:
    with pytest.raises(MalformedPayload):
        HistoryPage.read(clicked(f'{{"account": "acme", "page": {page}}}'))


def test_an_oversized_value_is_refused_before_it_is_parsed() -> None:
    huge = json.dumps({"account": "a" * 3000})
    with pytest.raises(MalformedPayload):
        AccountRef.read(clicked(huge))
    with pytest.raises(MalformedPayload):
        AccountRef.read(clicked(json.dumps({"account": "a" * 129})))  # longer than any account id


def test_a_value_that_is_not_text_at_all_is_refused() -> None:
    body = clicked("x")
    body["actions"][0]["value"] = {"account": "acme"}
    with pytest.raises(MalformedPayload):
        AccountRef.read(body)
    with pytest.raises(MalformedPayload):
        AccountRef.read({"actions": []})


def test_a_balance_submission_without_the_confirmed_amount_is_refused() -> None:
    for metadata in (
        '{"account": "acme", "balance": true}',
        '{"account": "acme", "invoice": "INV-1", "expected": 5}',
        '{"account": "acme", "balance": true, "expected": -5}',
        '{"account": "acme", "balance": true, "expected": true}',
        "{broken",
    ):
        with pytest.raises(MalformedPayload):
            PaySubmission.read(pay_submitted(metadata, "pm_1"))


def test_a_pay_submission_without_a_chosen_card_is_refused() -> None:
    with pytest.raises(MalformedPayload):
        PaySubmission.read(pay_submitted(PayModalMetadata(account="acme", invoice="INV-1").encode(), None))


@pytest.mark.parametrize(
    "raw",
    [
        '{"invoices": []}',
        '{"invoices": [["acme"]]}',
        '{"invoices": [["acme", "INV-1", "x"]]}',
        '{"invoices": [["acme", ""]]}',
        '{"invoices": "acme,INV-1"}',
        json.dumps({"invoices": [["acme", f"INV-{n}"] for n in range(51)]}),
    ],
)
def test_a_snooze_button_with_no_invoice_a_broken_pair_or_too_many_invoices_is_refused(raw: str) -> None:
    with pytest.raises(MalformedPayload):
        SnoozeTarget.read(clicked(raw))


def test_a_refused_value_reads_as_out_of_date_and_is_audited_as_a_suspected_forgery() -> None:
    error = MalformedPayload("{not json")
    assert is_stale(error) and is_forgery_suspect(error)
    assert user_message(error).startswith(OUT_OF_DATE.split(".")[0])
    assert error.raw == "{not json"


def test_a_refused_value_keeps_no_card_number_and_at_most_255_characters_for_the_audit() -> None:
    assert MalformedPayload('{"account": "4242 4242 4242 4242"}').raw == "[card number removed]"
    assert len(MalformedPayload("x" * 5000).raw) == 255


# -- Slack's own structures ---------------------------------------------------------------


def test_the_support_form_reads_slacks_state_and_no_invoice_means_none() -> None:
    values = {
        support_form.TOPIC_BLOCK: {support_form.TOPIC_INPUT: select_input_value("billing_error")},
        support_form.INVOICE_BLOCK: {support_form.INVOICE_INPUT: select_input_value("-")},
        support_form.MESSAGE_BLOCK: {
            support_form.MESSAGE_INPUT: {**text_input_value("Please call me"), "slack_added_this": 1},
        },
    }

    submission = SupportSubmission.read(view_submission_payload("support_modal", values, '{"account":"acme"}'))

    assert (submission.account, submission.form.topic, submission.form.invoice, submission.form.message) == (
        "acme",
        "billing_error",
        None,
        "Please call me",
    )


def test_a_support_form_with_a_broken_state_reads_as_nothing_chosen() -> None:
    payload = view_submission_payload("support_modal", {}, '{"account":"acme"}')
    payload["view"]["state"] = {"values": {support_form.TOPIC_BLOCK: "not a block"}}

    form = SupportSubmission.read(payload).form

    assert (form.topic, form.invoice, form.message) == (None, None, "")


def test_a_verification_code_is_six_digits_with_spaces_ignored() -> None:
    def typed(text: str | None) -> str | None:
        return typed_code(
            view_submission_payload("verify_code_modal", {"verify_code": {"verify_code_input": text_input_value(text)}})
        )

    assert typed(" 123 456 ") == "123456"
    assert typed("12345") is None
    assert typed("12345a") is None
    assert typed(None) is None
