"""Billing support end to end: ``billing-bot serve``'s app on uvicorn, signed HTTP from "Slack",
the Slack Web API stand-in, localstripe, and a real SMTP server (aiosmtpd) that support reads.

Every entry point ends in an e-mail to SUPPORT_EMAIL with the right headers and body; the outbox
survives a mail server that is down; staff resolve from SUPPORT_SLACK_CHANNEL; typed markup stays data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select

from billing_core.db.tables import EscalationRecord
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from devtools.loopback.slack_signing import (
    interaction_body,
    select_input_value,
    text_input_value,
    view_submission_payload,
)
from tests.support.bot_fixtures import World
from tests.support.bot_harness import (
    ANN,
    ANN_ACTOR,
    DECLINES_AT_CHARGE,
    SUPPORT_EMAIL,
    wait_until,
)
from tests.support.smtp_sink import SmtpSink

SMTP_FROM = "billing-bot@vendor.test"
STAFF_CHANNEL = "CSTAFF01"
STAFF = "W777"
ANN_DM = f"D{ANN}"
MODAL = "support_modal"
REFERENCE = re.compile(r"ESC-\d{6,}")
INJECTION = "<!channel> <@U123> <https://evil|click> *bold* <script>alert(1)</script> & more"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def bot_overrides(slack: SlackAPI, smtp: SmtpSink) -> dict[str, str]:
    """The e2e bot, this time with SMTP_URL, SMTP_FROM and SUPPORT_SLACK_CHANNEL set (and staff in Slack)."""
    slack.add_user(STAFF, "sam@vendor.test", "Sam Staff")
    return {"SMTP_URL": smtp.url, "SMTP_FROM": SMTP_FROM, "SUPPORT_SLACK_CHANNEL": STAFF_CHANNEL}


@pytest.fixture
def desk(world: World, smtp: SmtpSink) -> World:
    if not smtp.running:
        smtp.start()
    smtp.clear()
    return world


# -- talking to the bot ----------------------------------------------------------------------


def elements(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for block in blocks:
        if block.get("accessory"):
            yield block["accessory"]
        yield from block.get("elements", [])


def support_button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    [button] = [e for e in elements(blocks) if e.get("action_id") == "support_open"]
    return button


def open_modal(world: World, button: dict[str, Any], **where: Any) -> dict[str, Any]:
    """Click ``button`` (from a message, or from a modal with ``view=``); the support modal it opens."""
    world.slack.clear()
    response, _ = world.bot.press("support_open", button["value"], **where)
    assert response.status_code == 200
    return world.bot.last_view(where=lambda v: v.get("callback_id") == MODAL)


def preselected(view: dict[str, Any], block_id: str) -> str | None:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    option = block["element"].get("initial_option")
    return option["value"] if option else None


def submit(
    world: World, view: dict[str, Any], message: str, *, topic: str | None = None, invoice: str | None = None
) -> Any:
    """Submit the modal as Slack would: what the person chose, else what the modal preselected."""
    values = {
        "support_topic": {"support_topic_select": select_input_value(topic or preselected(view, "support_topic"))},
        "support_invoice": {
            "support_invoice_select": select_input_value(invoice or preselected(view, "support_invoice"))
        },
        "support_message": {"support_message_input": text_input_value(message)},
    }
    payload = view_submission_payload(
        MODAL, values, str(view["private_metadata"]), user_id=ANN, view_id=str(view["id"])
    )
    response = world.bot.post(interaction_body(payload))
    assert response.status_code == 200
    return response


def posts_to(world: World, channel: str) -> list[RecordedCall]:
    return [c for c in world.slack.calls("chat.postMessage") if c.json_args.get("channel") in (channel, channel[1:])]


def reference_in_dm(world: World) -> str:
    """The reference the requester was told in their DM once the request was stored."""
    wait_until(lambda: any("queued" in c.json_args.get("text", "") for c in posts_to(world, ANN_DM)), 10, "the DM")
    [dm] = [c for c in posts_to(world, ANN_DM) if "queued" in c.json_args.get("text", "")]
    match = REFERENCE.search(dm.json_args["text"])
    assert match, dm.json_args["text"]
    return match.group(0)


def said(world: World, text: str) -> dict[str, Any]:
    response, url = world.bot.command(text)
    assert response.status_code == 200
    reply = world.bot.replies(url)[0]
    assert reply["response_type"] == "ephemeral"
    return reply


def mail_for(smtp: SmtpSink, reference: str) -> EmailMessage:
    def found() -> list[EmailMessage]:
        return [m for m in smtp.messages if m["X-Billing-Escalation"] == reference]

    wait_until(lambda: bool(found()), 10, f"the e-mail for {reference}")
    [mail] = found()
    return mail


def text_of(mail: EmailMessage, subtype: str = "plain") -> str:
    part = mail.get_body((subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def assert_mail(
    mail: EmailMessage, reference: str, topic: str, message: str, invoice: tuple[str, str] | None = None
) -> str:
    """Headers and body support relies on; returns the plain-text body."""
    assert mail["To"] == SUPPORT_EMAIL
    assert mail["From"] == SMTP_FROM
    assert mail["Reply-To"].addresses[0].addr_spec == "ann@acme.test"
    assert mail["Subject"] == f"[{reference}] {topic}: Acme Corp"
    body = text_of(mail)
    assert "Acme Corp (id acme)" in body
    assert "Name:   Ann Lee" in body and "E-mail: ann@acme.test" in body
    assert "Slack user W111 in workspace T111" in body
    assert f"> {message}" in body
    if invoice is not None:
        number, amount = invoice
        related = body.split("Related invoice\n", 1)[1].split("\n", 1)[0]
        assert number in related and amount in related
    else:
        assert "Related invoice" not in body
    return body


def escalation_count(world: World) -> int:
    with world.bot.db.read() as session:
        return int(session.scalar(select(func.count(EscalationRecord.id))) or 0)


# -- every entry point ---------------------------------------------------------------------------


def test_the_overviews_button_opens_the_modal_and_the_request_reaches_support_by_email(
    desk: World, smtp: SmtpSink
) -> None:
    overview = said(desk, "")
    view = open_modal(desk, support_button(overview["blocks"]))
    assert json.loads(view["private_metadata"]) == {"account": "acme"}
    assert preselected(view, "support_invoice") == "-"  # no particular invoice yet
    assert (
        submit(desk, view, "Who do I talk to about our PO number?", topic="invoice_question", invoice="INV-1").text
        == ""
    )
    reference = reference_in_dm(desk)
    assert_mail(
        mail_for(smtp, reference),
        reference,
        "Question about an invoice",
        "Who do I talk to about our PO number?",
        invoice=("INV-1", "$1,250.00"),
    )


def test_a_declined_payments_button_preselects_the_invoice_and_support_sees_the_attempt(
    desk: World, smtp: SmtpSink
) -> None:
    declining = desk.stripe.card(desk.acme_customer, DECLINES_AT_CHARGE)
    desk.bot.services.require_payments().methods.list(ANN_ACTOR, "acme", refresh=True)
    desk.bot.press("pay_open", {"account": "acme", "invoice": "INV-2"})
    pay = desk.bot.last_view(where=lambda v: v.get("callback_id") == "pay_modal")
    desk.bot.submit(pay, method=declining)
    declined = desk.bot.last_view(where=lambda v: v.get("title", {}).get("text") == "Payment declined")

    view = open_modal(desk, support_button(declined["blocks"]), view=declined)
    assert desk.slack.calls("views.push")  # stacked on the outcome, which stays underneath
    assert preselected(view, "support_invoice") == "INV-2"
    assert preselected(view, "support_topic") == "invoice_question"
    submit(desk, view, "My card was declined but it has funds.")
    reference = reference_in_dm(desk)
    body = assert_mail(
        mail_for(smtp, reference),
        reference,
        "Question about an invoice",
        "My card was declined but it has funds.",
        invoice=("INV-2", "$500.50"),
    )
    attempts = body.split("Recent payment attempts\n", 1)[1]
    assert "$500.50 with visa ending 0341 for INV-2: failed" in attempts


def test_a_refused_partial_amount_offers_support_with_the_payment_plan_topic(desk: World, smtp: SmtpSink) -> None:
    refusal = said(desk, "pay 100")
    assert "whole invoice or the full open balance" in json.dumps(refusal)
    view = open_modal(desk, support_button(refusal["blocks"]))
    assert preselected(view, "support_topic") == "payment_plan"
    submit(desk, view, "Can we pay $100 a month?")
    reference = reference_in_dm(desk)
    assert_mail(mail_for(smtp, reference), reference, "Partial payment or payment plan", "Can we pay $100 a month?")
    assert desk.stripe.intents() == []


def test_a_reminder_dms_support_button_opens_the_modal_for_its_invoice(desk: World, smtp: SmtpSink) -> None:
    # 10:00 in New York, Ann's Slack time zone: inside the reminders' working hours.
    desk.bot.services.reminders.run_sweep(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    reminders = [
        c
        for c in posts_to(desk, ANN_DM)
        if json.loads(support_button(c.json_args["blocks"])["value"])["invoice"] == "INV-2"
    ]
    assert reminders, "no reminder DM about INV-2"
    dm = reminders[0]
    view = open_modal(
        desk, support_button(dm.json_args["blocks"]), channel_id=ANN_DM, message=(dm.response or {})["message"]
    )
    assert preselected(view, "support_invoice") == "INV-2"
    assert preselected(view, "support_topic") == "invoice_question"
    submit(desk, view, "Is INV-2 the right amount?")
    reference = reference_in_dm(desk)
    assert_mail(
        mail_for(smtp, reference),
        reference,
        "Question about an invoice",
        "Is INV-2 the right amount?",
        invoice=("INV-2", "$500.50"),
    )


def test_support_with_a_message_sends_it_at_once_and_tells_the_reference(desk: World, smtp: SmtpSink) -> None:
    reply = json.dumps(said(desk, "support Please update our VAT number"))
    match = REFERENCE.search(reply)
    assert match and "queued" in reply and "ann@acme.test" in reply
    reference = match.group(0)
    assert_mail(mail_for(smtp, reference), reference, "Something else", "Please update our VAT number")


def test_support_alone_lists_the_open_requests_with_their_status(desk: World, smtp: SmtpSink) -> None:
    assert "no open requests" in json.dumps(said(desk, "support"))
    first = REFERENCE.search(json.dumps(said(desk, "support First question")))
    second = REFERENCE.search(json.dumps(said(desk, "support Second question")))
    assert first and second
    mail_for(smtp, first.group(0))
    mail_for(smtp, second.group(0))
    desk.bot.services.escalations.resolve(second.group(0), "slack:T111:W777")

    listing = said(desk, "support")
    text = json.dumps(listing, ensure_ascii=False)
    assert f"*{first.group(0)}* · Something else · Acme Corp" in text
    assert "with billing support" in text  # e-mailed
    assert second.group(0) not in text  # resolved: no longer open
    assert support_button(listing["blocks"])["text"]["text"] == "New request to billing support"


# -- durability, staff, safety -------------------------------------------------------------------


def first_attempt_failed(world: World, reference: str) -> bool:
    with world.bot.db.read() as session:
        record = session.get(EscalationRecord, int(reference[4:]))
        return record is not None and record.attempts >= 1 and record.delivery_status == "queued"


def test_a_request_made_while_the_mail_server_is_down_is_emailed_exactly_once_when_it_is_back(
    desk: World, smtp: SmtpSink
) -> None:
    smtp.stop()
    reply = json.dumps(said(desk, "support Sent while the mail server was down"))
    reference = REFERENCE.search(reply)
    assert reference and "queued" in reply
    wait_until(lambda: first_attempt_failed(desk, reference.group(0)), 10, "the first, failed attempt")
    assert "queued, on its way to billing support" in json.dumps(said(desk, "support"))

    smtp.start()
    outbox = desk.bot.services.escalations.outbox
    later = desk.bot.clock.now() + timedelta(hours=1)
    with ThreadPoolExecutor(max_workers=3) as pool:  # the scheduler's job, racing two more workers
        list(pool.map(lambda _: outbox.deliver_due(later), range(3)))
    outbox.deliver_due(later + timedelta(hours=1))

    mail = mail_for(smtp, reference.group(0))
    assert_mail(mail, reference.group(0), "Something else", "Sent while the mail server was down")
    assert len(smtp.messages) == 1
    assert "with billing support" in json.dumps(said(desk, "support"))


def test_staff_mark_it_resolved_in_the_support_channel_and_the_requester_gets_a_dm(desk: World, smtp: SmtpSink) -> None:
    reference = REFERENCE.search(json.dumps(said(desk, "support Please add bob@acme.test as a contact")))
    assert reference
    [post] = desk.bot.wait_calls("chat.postMessage", where=lambda c: c.json_args.get("channel") == STAFF_CHANNEL)
    assert reference.group(0) in post.json_args["text"]
    [resolve] = [
        e
        for e in elements(post.json_args["blocks"])
        if e.get("type") == "button" and e["text"]["text"] == "Mark resolved"
    ]

    desk.bot.press(
        resolve["action_id"],
        resolve["value"],
        user=STAFF,
        channel_id=STAFF_CHANNEL,
        message=(post.response or {})["message"],
    )
    [dm] = desk.bot.wait_calls(
        "chat.postMessage",
        where=lambda c: c.json_args.get("channel") == ANN_DM and "resolved" in c.json_args.get("text", ""),
    )
    assert reference.group(0) in dm.json_args["text"]
    [update] = desk.bot.wait_calls("chat.update", where=lambda c: c.json_args.get("channel") == STAFF_CHANNEL)
    assert "Resolved by <@W777>" in json.dumps(update.json_args["blocks"])
    assert "Mark resolved" not in json.dumps(update.json_args["blocks"])
    assert desk.bot.services.escalations.get(reference.group(0)).status == "resolved"
    assert reference.group(0) not in json.dumps(said(desk, "support"))


def test_markup_in_the_message_is_data_in_the_email_and_in_the_staff_channel(desk: World, smtp: SmtpSink) -> None:
    view = open_modal(desk, support_button(said(desk, "")["blocks"]))
    submit(desk, view, INJECTION, topic="dispute")
    reference = reference_in_dm(desk)
    mail = mail_for(smtp, reference)
    body = assert_mail(mail, reference, "Dispute a charge", INJECTION)
    # Plain text: the message only ever appears as quoted lines, never as one of our fields.
    assert [line for line in body.splitlines() if "<script>" in line] == [f"> {INJECTION}"]
    page = text_of(mail, "html")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; *bold*" in page

    [post] = desk.bot.wait_calls("chat.postMessage", where=lambda c: c.json_args.get("channel") == STAFF_CHANNEL)
    posted = json.dumps(post.json_args, ensure_ascii=False)
    for markup in ("<!channel>", "<@U123>", "<https://evil|click>", "<script>"):
        assert markup not in posted
    [shown] = [b["text"] for b in post.json_args["blocks"] if "alert(1)" in json.dumps(b)]
    assert shown["verbatim"] is True
    assert shown["text"] == (
        "```&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; *bold* "
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more```"
    )


@pytest.mark.parametrize(
    ("message", "error"),
    [("   \n  ", "can't be empty"), ("x" * 2001, "limited to 2,000 characters")],
    ids=["empty", "oversized"],
)
def test_an_empty_or_oversized_message_is_refused_in_the_modal_and_nothing_is_stored_or_sent(
    desk: World, smtp: SmtpSink, message: str, error: str
) -> None:
    view = open_modal(desk, support_button(said(desk, "")["blocks"]))
    message_block = next(b for b in view["blocks"] if b.get("block_id") == "support_message")
    assert "up to 2,000 characters" in json.dumps(message_block) and message_block["element"]["max_length"] == 2000
    desk.slack.clear()

    answer = submit(desk, view, message, topic="other").json()
    assert answer["response_action"] == "errors"
    assert error in answer["errors"]["support_message"]

    # A valid request afterwards is the only one stored, e-mailed and posted.
    submit(desk, view, "Now with a message", topic="other")
    reference = reference_in_dm(desk)
    mail_for(smtp, reference)
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c.json_args.get("channel") == STAFF_CHANNEL)
    assert escalation_count(desk) == 1
    assert len(smtp.messages) == 1
    assert len(posts_to(desk, STAFF_CHANNEL)) == 1 and len(posts_to(desk, ANN_DM)) == 1
