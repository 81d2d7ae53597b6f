"""The Slack side of billing support, through signed requests into a Bolt app with our listeners.

Real parts: Bolt's request verification and dispatch, the Slack Web API stand-in, aiosmtpd.
(End-to-end tests through ``billing-bot serve`` live in tests/e2e/test_support_*.py.)
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from slack_bolt import App

from billing_core.container import Services
from billing_core.escalations.views import MAX_MESSAGE_LENGTH
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import (
    block_actions_body,
    block_actions_payload,
    button_action,
    select_input_value,
    text_input_value,
    view_submission_body,
)
from handlers.escalations.ids import SUPPORT_MODAL_CALLBACK, SUPPORT_RESOLVE_ACTION
from handlers.escalations.payloads import (
    INVOICE_BLOCK,
    INVOICE_INPUT,
    MESSAGE_BLOCK,
    MESSAGE_INPUT,
    TOPIC_BLOCK,
    TOPIC_INPUT,
)
from handlers.kit.ids import SUPPORT_OPEN_ACTION
from tests.support.escalations import STAFF_CHANNEL, dispatch
from tests.support.smtp_sink import SmtpSink


def submit(app: App, topic: str | None, message: str | None, invoice: str | None = None, user: str = "W111") -> Any:
    values = {
        TOPIC_BLOCK: {TOPIC_INPUT: select_input_value(topic)},
        INVOICE_BLOCK: {INVOICE_INPUT: select_input_value(invoice)},
        MESSAGE_BLOCK: {MESSAGE_INPUT: text_input_value(message)},
    }
    body = view_submission_body(
        callback_id=SUPPORT_MODAL_CALLBACK, values=values, private_metadata={"account": "acme"}, user_id=user
    )
    return dispatch(app, body)


def wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_the_button_opens_the_modal_with_the_invoice_preselected(
    support_app: tuple[App, Services], slack_api: SlackAPI
) -> None:
    app, _ = support_app
    value = json.dumps({"account": "acme", "invoice": "INV-1002", "topic": "partial_payment"})

    response = dispatch(app, block_actions_body(block_actions_payload(button_action(SUPPORT_OPEN_ACTION, value))))

    assert response.status == 200
    [update] = slack_api.wait_for("views.update")
    view = update.json_args["view"]
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert view["callback_id"] == SUPPORT_MODAL_CALLBACK
    assert blocks[INVOICE_BLOCK]["element"]["initial_option"]["value"] == "INV-1002"
    assert blocks[TOPIC_BLOCK]["element"]["initial_option"]["value"] == "payment_plan"
    assert [o["text"]["text"] for o in blocks[TOPIC_BLOCK]["element"]["options"]] == [
        "Partial payment or payment plan",
        "Update billing contacts",
        "Question about an invoice",
        "Dispute a charge",
        "Something else",
    ]
    assert blocks[MESSAGE_BLOCK]["element"]["max_length"] == MAX_MESSAGE_LENGTH
    assert "2,000 characters" in blocks[MESSAGE_BLOCK]["label"]["text"]
    assert slack_api.calls("views.open")  # opened at once, filled in after


def test_submitting_creates_it_tells_the_reference_emails_support_and_posts_for_staff(
    support_app: tuple[App, Services], slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    app, services = support_app

    response = submit(app, "dispute", "The October charge is wrong.", "INV-1001")

    assert response.status == 200 and response.body == ""
    [mail] = smtp_sink.wait_for(1)
    [escalation] = services.escalations.list_open(services_actor())
    assert mail["Subject"] == f"[{escalation.reference}] Dispute a charge: Acme Corp"
    wait_until(lambda: len(slack_api.calls("chat.postMessage")) >= 2)
    posts = slack_api.calls("chat.postMessage")
    dm = next(c for c in posts if c.args["channel"] != STAFF_CHANNEL)
    staff = next(c for c in posts if c.args["channel"] == STAFF_CHANNEL)
    assert escalation.reference in dm.args["text"] and "queued" in dm.args["text"]
    assert escalation.reference in staff.args["text"]
    assert "Mark resolved" in json.dumps(staff.json_args["blocks"])


def services_actor() -> Any:
    from tests.support.escalations import ANN

    return ANN


@pytest.mark.parametrize(
    ("message", "expected"),
    [("", "can't be empty"), ("   ", "can't be empty"), ("x" * (MAX_MESSAGE_LENGTH + 1), "limited to 2,000")],
)
def test_empty_and_oversized_messages_get_an_inline_error_and_nothing_is_stored(
    support_app: tuple[App, Services], smtp_sink: SmtpSink, message: str, expected: str
) -> None:
    app, services = support_app

    response = submit(app, "other", message)

    answer = json.loads(response.body)
    assert answer["response_action"] == "errors"
    assert expected in answer["errors"][MESSAGE_BLOCK]
    assert services.escalations.list_open(services_actor()) == []


def test_a_missing_topic_gets_an_inline_error(support_app: tuple[App, Services]) -> None:
    app, _ = support_app
    answer = json.loads(submit(app, None, "Hello").body)
    assert TOPIC_BLOCK in answer["errors"]


def test_a_stranger_submitting_a_forged_modal_is_refused_and_nothing_is_stored(
    support_app: tuple[App, Services], slack_api: SlackAPI
) -> None:
    app, services = support_app

    submit(app, "other", "Let me in", user="W222")

    [dm] = slack_api.wait_for("chat.postMessage")
    assert "couldn't match your Slack account" in dm.args["text"]
    assert services.escalations.health()["queued"] == 0


def test_staff_resolve_in_the_channel_and_the_requester_gets_a_dm(
    support_app: tuple[App, Services], slack_api: SlackAPI
) -> None:
    app, services = support_app
    from tests.support.escalations import ANN

    view = services.escalations.create(ANN, "acme", "other", "Please call")
    payload = block_actions_payload(
        button_action(SUPPORT_RESOLVE_ACTION, view.reference),
        user_id="WSTAFF",
        channel_id=STAFF_CHANNEL,
        message={"ts": "1700000000.000100", "text": "x"},
    )

    dispatch(app, block_actions_body(payload))

    [update] = slack_api.wait_for("chat.update")
    [dm] = slack_api.wait_for("chat.postMessage")
    assert update.args["channel"] == STAFF_CHANNEL and update.args["ts"] == "1700000000.000100"
    assert "Resolved by <@WSTAFF>" in json.dumps(update.json_args["blocks"])
    assert slack_api.calls("conversations.open")[0].args["users"] == "W111"
    assert view.reference in dm.args["text"] and "resolved" in dm.args["text"]
    assert services.escalations.list_open(ANN) == []


def test_resolve_clicked_outside_the_staff_channel_changes_nothing(
    support_app: tuple[App, Services], slack_api: SlackAPI
) -> None:
    app, services = support_app
    from tests.support.escalations import ANN

    view = services.escalations.create(ANN, "acme", "other", "Please call")
    payload = block_actions_payload(button_action(SUPPORT_RESOLVE_ACTION, view.reference), user_id="W111")

    dispatch(app, block_actions_body(payload))

    [refusal] = slack_api.wait_for("chat.postEphemeral")
    assert "Only billing staff" in refusal.args["text"]
    assert services.escalations.get(view.reference).is_open


def test_markup_in_the_message_is_escaped_in_the_staff_post(
    support_app: tuple[App, Services], slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    app, _ = support_app

    submit(app, "other", "<!channel> @here <@U999> *bold* ``` <https://evil.test|click>")

    wait_until(lambda: any(c.args.get("channel") == STAFF_CHANNEL for c in slack_api.calls("chat.postMessage")))
    staff = next(c for c in slack_api.calls("chat.postMessage") if c.args["channel"] == STAFF_CHANNEL)
    message_block = next(b for b in staff.json_args["blocks"] if "```" in b.get("text", {}).get("text", ""))
    text = message_block["text"]["text"]
    assert message_block["text"]["verbatim"] is True
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "&lt;@U999&gt;" in text and "&lt;https://evil.test|click&gt;" in text
    assert text.startswith("```") and text.endswith("```") and text.count("```") == 2


@pytest.fixture
def command_app(support_app: tuple[App, Services]) -> tuple[App, Services]:
    from handlers import commands

    app, services = support_app
    commands.register(app)
    return app, services


def test_billing_support_with_a_message_creates_it_and_replies_with_the_reference(
    command_app: tuple[App, Services], slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    from devtools.loopback.slack_signing import slash_command_body

    app, services = command_app
    url = slack_api.response_url

    dispatch(app, slash_command_body("support Please send me a copy of INV-1001", response_url=url))

    [reply] = slack_api.wait_for("response_url")
    [escalation] = services.escalations.list_open(services_actor())
    assert escalation.reference in reply.args["text"]
    assert reply.args["response_type"] == "ephemeral"
    [mail] = smtp_sink.wait_for(1)
    assert mail["Subject"] == f"[{escalation.reference}] Something else: Acme Corp"


def test_billing_support_alone_lists_open_requests_with_status_and_a_new_request_button(
    command_app: tuple[App, Services], slack_api: SlackAPI
) -> None:
    from devtools.loopback.slack_signing import slash_command_body
    from tests.support.escalations import ANN

    app, services = command_app
    view = services.escalations.create(ANN, "acme", "dispute", "Wrong", "INV-1002")

    dispatch(app, slash_command_body("support", response_url=slack_api.response_url))

    [reply] = slack_api.wait_for("response_url")
    blocks = json.dumps(reply.json_args["blocks"])
    assert view.reference in blocks and "Dispute a charge" in blocks and "queued" in blocks
    assert SUPPORT_OPEN_ACTION in blocks
