"""A file sent to the app, over signed HTTP into the running app with the Slack Web API stand-in and
a real SMTP server (aiosmtpd): offered to billing support, and on "Send to billing support" e-mailed
to them as its name and Slack link (never its bytes), through the same account guard as any request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select

from billing_core.db.tables import EscalationRecord
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from devtools.loopback.slack_signing import button_action
from tests.e2e.test_chat import ANN_DM, buttons, dm, mention, said, text_of
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, STRANGER, SUPPORT_EMAIL, wait_for_listeners, wait_until
from tests.support.smtp_sink import SmtpSink

SEND, CANCEL = "support_file_send", "support_file_cancel"
PERMALINK = "https://acme-corp.slack.com/files/UANN/F0REMIT01/remittance-nov.pdf"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def bot_overrides(slack: SlackAPI, smtp: SmtpSink) -> dict[str, str]:
    return {"SMTP_URL": smtp.url, "SMTP_FROM": "billing-bot@vendor.test"}


@pytest.fixture
def desk(world: World, smtp: SmtpSink) -> World:
    smtp.clear()
    return world


def slack_file(name: str = "remittance-nov.pdf", file_id: str = "F0REMIT01", **extra: Any) -> dict[str, Any]:
    """A file as Slack describes it on a ``file_share`` message (no bytes: links to it in Slack)."""
    return {
        "id": file_id,
        "name": name,
        "title": name,
        "mimetype": "application/pdf",
        "size": 48213,
        "url_private": f"https://files.slack.com/files-pri/T111-{file_id}/{name}",
        "url_private_download": f"https://files.slack.com/files-pri/T111-{file_id}/download/{name}",
        "permalink": f"https://acme-corp.slack.com/files/UANN/{file_id}/{name}",
        **extra,
    }


def file_share(text: str = "", user: str = ANN, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return dm(text, user, subtype="file_share", upload=True, files=files or [slack_file()])


def click(world: World, offer: RecordedCall, action_id: str, user: str = ANN) -> dict[str, Any]:
    """Press ``action_id`` on the offer in the DM; returns what replaced the offer."""
    [pressed] = buttons(offer, action_id)
    message = {"ts": "1.1", **(offer.response or {}).get("message", {})}
    response, url = world.bot.click(
        button_action(action_id, pressed["value"]), user=user, channel_id=ANN_DM, message=message
    )
    assert response.status_code == 200
    return world.bot.replies(url)[0]


def mail_with(smtp: SmtpSink, reference: str) -> EmailMessage:
    wait_until(lambda: any(m["X-Billing-Escalation"] == reference for m in smtp.messages), 10, "the e-mail")
    [mail] = [m for m in smtp.messages if m["X-Billing-Escalation"] == reference]
    return mail


def escalations(world: World) -> int:
    with world.bot.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(EscalationRecord)) or 0)


def plain_text(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_file_sent_to_the_dm_is_offered_and_reaches_billing_support_as_a_link(desk: World, smtp: SmtpSink) -> None:
    offer = said(desk, file_share("Remittance advice for INV-1"))
    assert offer.json_args["channel"] == ANN_DM
    assert "remittance-nov.pdf" in text_of(offer) and "Acme Corp" in text_of(offer)
    assert buttons(offer, SEND) and buttons(offer, CANCEL)
    assert escalations(desk) == 0  # nothing is sent until the click

    replaced = click(desk, offer, SEND)
    assert replaced["replace_original"] is True  # the offer cannot be pressed twice
    reference = replaced["text"].split("request ")[1].split(" ")[0]
    assert reference.startswith("ESC-")
    mail = mail_with(smtp, reference)
    assert mail["To"] == SUPPORT_EMAIL and mail["Subject"] == f"[{reference}] Something else: Acme Corp"
    body = plain_text(mail)
    assert "remittance-nov.pdf" in body and PERMALINK in body and "Remittance advice for INV-1" in body
    assert mail.get_content_maintype() == "multipart" and all(
        part.get_content_maintype() == "text" for part in mail.walk() if not part.is_multipart()
    )  # no attachment: the bytes never left Slack
    assert [c for c in desk.slack.calls() if c.method.startswith("files.")] == []  # nor were read from it


def test_a_double_click_on_send_makes_one_request_and_one_email(desk: World, smtp: SmtpSink) -> None:
    offer = said(desk, file_share("Proof of payment, twice clicked", files=[slack_file("proof.pdf", "F0PROOF01")]))
    before = escalations(desk)
    first, second = click(desk, offer, SEND), click(desk, offer, SEND)
    reference = first["text"].split("request ")[1].split(" ")[0]
    assert reference.startswith("ESC-") and reference in second["text"]  # both clicks name the same request
    mail_with(smtp, reference)
    wait_for_listeners(desk.bot)
    assert escalations(desk) == before + 1
    assert [m["X-Billing-Escalation"] for m in smtp.messages].count(reference) == 1


def test_cancel_withdraws_the_offer_and_sends_nothing(desk: World, smtp: SmtpSink) -> None:
    offer = said(desk, file_share())
    replaced = click(desk, offer, CANCEL)
    assert replaced["replace_original"] is True and "Not sent" in replaced["text"]
    wait_for_listeners(desk.bot)
    assert escalations(desk) == 0 and smtp.messages == []


def test_someone_who_is_no_contact_sending_a_file_gets_the_polite_refusal_and_no_button(
    desk: World, smtp: SmtpSink
) -> None:
    answer = said(desk, file_share("our invoice", user=STRANGER))
    assert answer.json_args["channel"] == f"D{STRANGER}"
    assert SUPPORT_EMAIL in text_of(answer) and "Acme" not in text_of(answer)
    assert buttons(answer, SEND) == []


def test_a_non_contact_pressing_someone_elses_offer_is_refused_and_nothing_is_sent(desk: World, smtp: SmtpSink) -> None:
    offer = said(desk, file_share())
    refused = click(desk, offer, SEND, user=STRANGER)
    assert SUPPORT_EMAIL in json.dumps(refused) and "ESC-" not in json.dumps(refused)
    wait_for_listeners(desk.bot)
    assert escalations(desk) == 0 and smtp.messages == []


def test_a_file_in_a_channel_mention_is_offered_to_the_sender_alone(desk: World) -> None:
    event = {**mention("for billing"), "files": [slack_file()]}
    offer = said(desk, event, "chat.postEphemeral")
    assert offer.json_args["channel"] == "C0PUBLIC" and offer.json_args["user"] == ANN
    assert buttons(offer, SEND)
    wait_for_listeners(desk.bot)
    assert [c for c in desk.slack.calls("chat.postMessage") if c.json_args.get("channel") == "C0PUBLIC"] == []


def test_a_file_slack_names_only_by_id_is_offered_without_a_link(desk: World, smtp: SmtpSink) -> None:
    connect_file = {"id": "F0CONNECT1", "mode": "file_access", "file_access": "check_file_info", "user": ""}
    offer = said(desk, file_share(files=[connect_file]))
    assert "file F0CONNECT1" in text_of(offer)
    reference = click(desk, offer, SEND)["text"].split("request ")[1].split(" ")[0]
    assert "file F0CONNECT1" in plain_text(mail_with(smtp, reference))
