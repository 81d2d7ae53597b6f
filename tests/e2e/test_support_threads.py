"""Two-way support threads end to end (issue 31, item 1): ``billing-bot serve``'s app on uvicorn,
signed HTTP from "Slack", the Slack Web API stand-in, and a real SMTP server (aiosmtpd).

Staff answer in the thread of a request's post in the private support channel; the requester reads
the answer in their DM thread for that request and answers there; both sides change the request's
state with buttons; billing support's mailbox gets every message as a reply to the request's e-mail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.message import EmailMessage
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select

from billing_core.db.tables import AuditEventRecord
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, PETER, wait_for_listeners, wait_until
from tests.support.smtp_sink import SmtpSink

STAFF_CHANNEL = "GSTAFF01"
OTHER_CHANNEL = "GOTHER01"
STAFF, OUTSIDER = "W777", "W778"
ANN_DM = f"D{ANN}"
REFERENCE = re.compile(r"ESC-\d{6,}")
_TS = count(1)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def bot_overrides(slack: SlackAPI, smtp: SmtpSink) -> dict[str, str]:
    """SMTP, a private support channel whose only member is Sam, and staff shown by their name."""
    slack.add_user(STAFF, "sam@vendor.test", "Sam Staff")
    slack.add_user(OUTSIDER, "olga@vendor.test", "Olga Outsider")
    slack.add_channel(STAFF_CHANNEL, private=True, members=[STAFF, "UBOT"])
    slack.add_channel(OTHER_CHANNEL, private=True, members=[STAFF, OUTSIDER, "UBOT"])
    return {
        "SMTP_URL": smtp.url,
        "SMTP_FROM": "billing-bot@vendor.test",
        "SUPPORT_SLACK_CHANNEL": STAFF_CHANNEL,
        "SUPPORT_STAFF_NAME": "person",
    }


@pytest.fixture
def desk(world: World, smtp: SmtpSink) -> World:
    smtp.clear()
    return world


# -- helpers ------------------------------------------------------------------------------------


def new_ts() -> str:
    return f"1800000000.{next(_TS):06d}"


def request(world: World, text: str) -> tuple[str, dict[str, Any]]:
    """Ann files a request with ``/billing support <text>``; its reference and its staff post."""
    response, url = world.bot.command(f"support {text}")
    assert response.status_code == 200
    match = REFERENCE.search(json.dumps(world.bot.replies(url)[0]))
    assert match
    reference = match.group(0)
    [post] = world.bot.wait_calls(
        "chat.postMessage",
        where=lambda c: c.json_args.get("channel") == STAFF_CHANNEL and reference in c.json_args.get("text", ""),
    )
    message: dict[str, Any] = (post.response or {})["message"]
    # The outbox stores the post's ts right after Slack answered; staff reply once it shows.
    wait_until(lambda: world.bot.services.escalations.get(reference).staff_ts == message["ts"], 10, "the post's ts")
    return reference, message


def message_event(channel: str, user: str, text: str, thread_ts: str, **extra: Any) -> dict[str, Any]:
    channel_type = "im" if channel.startswith("D") else "group"
    event = {
        "type": "message",
        "channel": channel,
        "channel_type": channel_type,
        "user": user,
        "text": text,
        "ts": new_ts(),
        "thread_ts": thread_ts,
        "team": "T111",
    }
    return event | extra


def say(world: World, event: dict[str, Any]) -> None:
    assert world.bot.event(event).status_code == 200


def dm_thread_posts(world: World) -> list[RecordedCall]:
    return [
        c
        for c in world.slack.calls("chat.postMessage")
        if c.json_args.get("channel") == ANN_DM and c.json_args.get("thread_ts")
    ]


def dm_root(world: World, reference: str) -> dict[str, Any]:
    [root] = [
        c
        for c in world.slack.calls("chat.postMessage")
        if c.json_args.get("channel") == ANN_DM
        and not c.json_args.get("thread_ts")
        and f"Your request {reference}" in c.json_args.get("text", "")
    ]
    message: dict[str, Any] = (root.response or {})["message"]
    return message


def staff_thread_posts(world: World, post_ts: str) -> list[RecordedCall]:
    return [
        c
        for c in world.slack.calls("chat.postMessage")
        if c.json_args.get("channel") == STAFF_CHANNEL and c.json_args.get("thread_ts") == post_ts
    ]


def audit(world: World, action: str, outcome: str | None = None) -> list[dict[str, Any]]:
    """The audit rows of ``action`` (and ``outcome``), oldest first: target and detail."""
    with world.bot.db.read() as session:
        query = select(AuditEventRecord).where(AuditEventRecord.action == action).order_by(AuditEventRecord.id)
        if outcome is not None:
            query = query.where(AuditEventRecord.outcome == outcome)
        return [{"target": row.target, **json.loads(row.detail)} for row in session.scalars(query).all()]


def button_in(blocks: list[dict[str, Any]], text: str) -> dict[str, Any]:
    found: dict[str, Any]
    [found] = [
        element
        for block in blocks
        for element in block.get("elements", [])
        if element.get("type") == "button" and element["text"]["text"] == text
    ]
    return found


def follow_ups(smtp: SmtpSink, reference: str, n: int) -> list[EmailMessage]:
    def found() -> list[EmailMessage]:
        return [
            m for m in smtp.messages if m["X-Billing-Escalation"] == reference and m["X-Billing-Escalation-Message"]
        ]

    wait_until(lambda: len(found()) >= n, 10, f"{n} follow-up e-mail(s) for {reference}")
    return found()


def body_of(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


# -- the conversation -----------------------------------------------------------------------------


def test_a_staff_reply_reaches_the_requester_and_their_answer_comes_back_to_the_staff_thread(
    desk: World, smtp: SmtpSink
) -> None:
    reference, post = request(desk, "Please update our VAT number")

    say(
        desk,
        message_event(STAFF_CHANNEL, STAFF, "Done. Check <https://vendor.test/vat|the VAT form> please", post["ts"]),
    )
    [reply] = desk.bot.wait_calls("chat.postMessage", where=lambda c: c in dm_thread_posts(desk))
    root = dm_root(desk, reference)
    assert reply.json_args["thread_ts"] == root["ts"]  # in the request's own DM thread
    shown = json.dumps(reply.json_args, ensure_ascii=False)
    assert reference in shown and "Sam Staff" in shown  # the reference and who answered
    assert "Done. Check the VAT form please" in shown
    assert "<https://vendor.test/vat|the VAT form>" in shown  # the link passes as a link
    assert "State: *Open*" in json.dumps(root["blocks"])
    assert button_in(root["blocks"], "Mark resolved")

    say(
        desk,
        message_event(
            ANN_DM,
            ANN,
            "Thanks! Our PO is attached",
            root["ts"],
            files=[{"name": "po.pdf", "permalink": "https://acme.slack.com/files/W111/F1/po.pdf"}],
        ),
    )
    [back] = desk.bot.wait_calls("chat.postMessage", where=lambda c: c in staff_thread_posts(desk, post["ts"]))
    relayed = json.dumps(back.json_args, ensure_ascii=False)
    assert "Ann Lee" in relayed and "ann@acme.test" in relayed  # attributed
    assert "Thanks! Our PO is attached" in relayed
    assert "<https://acme.slack.com/files/W111/F1/po.pdf|po.pdf>" in relayed  # the file as a link

    wait_for_listeners(desk.bot)
    stored = audit(desk, "escalation.message", "stored")
    assert [row["side"] for row in stored] == ["staff", "requester"]
    assert all(row["target"] == reference for row in stored)
    assert len(audit(desk, "escalation.relay", "relayed")) == 2

    # The bot's own relays come back as message events: they are not relayed again (no loop).
    echo = message_event(STAFF_CHANNEL, STAFF, "echo", post["ts"], bot_id="B111")
    say(desk, echo)
    wait_for_listeners(desk.bot)
    assert len(dm_thread_posts(desk)) == 1

    # Billing support's mailbox has the request and both messages, threaded under it.
    mails = follow_ups(smtp, reference, 2)
    [original] = [m for m in smtp.messages if m["X-Billing-Escalation"] == reference and m not in mails]
    for mail in mails:
        assert mail["In-Reply-To"] == original["Message-ID"] and mail["References"] == original["Message-ID"]
        assert mail["Subject"] == f"Re: {original['Subject']}"
    bodies = [body_of(m) for m in mails]
    assert any("> Done. Check the VAT form please" in b and "https://vendor.test/vat" in b for b in bodies)
    assert any(
        "billing staff, Slack user W777 in workspace T111 (shown to the customer as Sam Staff)" in b for b in bodies
    )
    assert any("> Thanks! Our PO is attached" in b and "po.pdf" in b for b in bodies)


def test_an_edit_of_a_message_in_a_requesters_thread_is_neither_relayed_nor_answered_by_the_chat(
    desk: World,
) -> None:
    reference, post = request(desk, "Please send the W-9")
    say(desk, message_event(STAFF_CHANNEL, STAFF, "Which entity?", post["ts"]))
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c in dm_thread_posts(desk))
    root = dm_root(desk, reference)
    answer = message_event(ANN_DM, ANN, "Acme Corp Inc", root["ts"])
    say(desk, answer)
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c in staff_thread_posts(desk, post["ts"]))
    wait_for_listeners(desk.bot)
    before = len(desk.slack.calls("chat.postMessage"))

    edited = {**answer, "text": "Acme Corp Inc. (Delaware)"}
    say(
        desk,
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": ANN_DM,
            "channel_type": "im",
            "hidden": True,
            "message": {key: edited[key] for key in ("type", "user", "text", "ts", "thread_ts")},
            "ts": new_ts(),
            "team": "T111",
        },
    )
    wait_for_listeners(desk.bot)
    assert len(desk.slack.calls("chat.postMessage")) == before  # no relay, no chat answer in the thread


def test_a_reply_by_a_non_member_or_in_another_channel_reaches_nobody(desk: World, smtp: SmtpSink) -> None:
    _, post = request(desk, "Who can see this?")

    # Olga is not a member of the private support channel (a forged or stale event): refused.
    say(desk, message_event(STAFF_CHANNEL, OUTSIDER, "I am not staff", post["ts"]))
    # The same thread ts in another channel is no request's thread.
    say(desk, message_event(OTHER_CHANNEL, STAFF, "Wrong channel", post["ts"]))
    # A thread of the support channel that is no request's post.
    say(desk, message_event(STAFF_CHANNEL, STAFF, "Unrelated thread", "1111.2222"))
    wait_for_listeners(desk.bot)

    assert dm_thread_posts(desk) == []
    assert [c for c in desk.slack.calls("chat.postMessage") if c.json_args.get("channel") == ANN_DM] == []
    refused = audit(desk, "escalation.message", "refused")
    assert [row["slack_user"] for row in refused] == [OUTSIDER]
    assert audit(desk, "escalation.message", "stored") == []
    assert not [m for m in smtp.messages if m["X-Billing-Escalation-Message"]]


def test_someone_else_writing_in_a_requesters_thread_reaches_nobody(desk: World) -> None:
    reference, post = request(desk, "Only mine")
    say(desk, message_event(STAFF_CHANNEL, STAFF, "Hello Ann", post["ts"]))
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c in dm_thread_posts(desk))
    root = dm_root(desk, reference)

    # Peter names Ann's DM channel and thread in an event: not his own DM, so nothing is relayed.
    say(desk, message_event(ANN_DM, PETER, "Peter here", root["ts"]))
    wait_for_listeners(desk.bot)
    assert staff_thread_posts(desk, post["ts"]) == []
    assert audit(desk, "escalation.message", "refused")


# -- the request's state, from both sides ------------------------------------------------------------


def test_state_buttons_work_from_both_sides_and_redraw_both_messages(desk: World) -> None:
    reference, post = request(desk, "Can we change the billing address?")
    say(desk, message_event(STAFF_CHANNEL, STAFF, "Which address?", post["ts"]))
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c in dm_thread_posts(desk))
    root = dm_root(desk, reference)

    waiting = button_in(post["blocks"], "Waiting on customer")
    desk.bot.press(waiting["action_id"], waiting["value"], user=STAFF, channel_id=STAFF_CHANNEL, message=post)
    [staff_update] = desk.bot.wait_calls("chat.update", where=lambda c: c.json_args.get("ts") == post["ts"])
    assert "State: *Waiting on customer*" in json.dumps(staff_update.json_args["blocks"])
    [dm_update] = desk.bot.wait_calls("chat.update", where=lambda c: c.json_args.get("ts") == root["ts"])
    assert "State: *Waiting on customer*" in json.dumps(dm_update.json_args["blocks"])
    assert desk.bot.services.escalations.get(reference).state == "waiting"

    # Peter clicks Ann's button (a forged click): refused, nothing changes.
    resolve = button_in(dm_update.json_args["blocks"], "Mark resolved")
    wait_for_listeners(desk.bot)
    desk.slack.clear()
    desk.bot.press(resolve["action_id"], resolve["value"], user=PETER, channel_id=ANN_DM, message=root)
    wait_for_listeners(desk.bot)
    assert desk.slack.calls("chat.update") == []
    assert [c for c in desk.slack.calls("chat.postMessage") if c.json_args.get("channel") == ANN_DM] == []
    assert desk.bot.services.escalations.get(reference).state == "waiting"

    # Ann resolves it from her DM thread: both messages show it.
    desk.bot.press(resolve["action_id"], resolve["value"], user=ANN, channel_id=ANN_DM, message=root)
    updates = desk.bot.wait_calls("chat.update", count=2)
    by_ts = {c.json_args["ts"]: json.dumps(c.json_args["blocks"]) for c in updates}
    assert "Resolved by the requester" in by_ts[post["ts"]] and "Reopen" in by_ts[post["ts"]]
    assert "State: *Resolved*" in by_ts[root["ts"]] and "Reopen" in by_ts[root["ts"]]
    assert desk.bot.services.escalations.get(reference).state == "resolved"

    # Staff reopen it from the channel.
    reopen = button_in(json.loads(by_ts[post["ts"]]), "Reopen")
    wait_for_listeners(desk.bot)
    desk.slack.clear()
    desk.bot.press(reopen["action_id"], reopen["value"], user=STAFF, channel_id=STAFF_CHANNEL, message=post)
    desk.bot.wait_calls("chat.update", count=2)
    assert desk.bot.services.escalations.get(reference).state == "open"

    wait_for_listeners(desk.bot)
    changes = audit(desk, "escalation.state", "ok")
    assert [(c["from"], c["to"], c["side"]) for c in changes] == [
        ("open", "waiting", "staff"),
        ("waiting", "resolved", "requester"),
        ("resolved", "open", "staff"),
    ]
    assert [row["on"] for row in audit(desk, "forgery.refused") if row["target"] == reference] == ["escalation.state"]


def test_waiting_on_customer_before_any_reply_starts_the_requesters_thread_to_tell_them(desk: World) -> None:
    reference, post = request(desk, "Please send a W-9")
    waiting = button_in(post["blocks"], "Waiting on customer")
    desk.bot.press(waiting["action_id"], waiting["value"], user=STAFF, channel_id=STAFF_CHANNEL, message=post)

    [notice] = desk.bot.wait_calls("chat.postMessage", where=lambda c: c in dm_thread_posts(desk))
    root = dm_root(desk, reference)
    assert notice.json_args["thread_ts"] == root["ts"]
    assert "Sam Staff set" in notice.json_args["text"] and "Waiting on customer" in notice.json_args["text"]
    assert "State: *Waiting on customer*" in json.dumps(root["blocks"])
    assert desk.bot.services.escalations.get(reference).requester_dm_ts == root["ts"]


def test_mark_resolved_in_the_channel_tells_the_requester_in_their_thread_not_in_a_new_dm(desk: World) -> None:
    reference, post = request(desk, "Is INV-1 paid?")
    say(desk, message_event(STAFF_CHANNEL, STAFF, "Checking", post["ts"]))
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c in dm_thread_posts(desk))
    root = dm_root(desk, reference)
    wait_for_listeners(desk.bot)
    desk.slack.clear()

    resolve = button_in(post["blocks"], "Mark resolved")
    desk.bot.press(resolve["action_id"], resolve["value"], user=STAFF, channel_id=STAFF_CHANNEL, message=post)
    [notice] = desk.bot.wait_calls("chat.postMessage", where=lambda c: c.json_args.get("channel") == ANN_DM)
    assert notice.json_args.get("thread_ts") == root["ts"] and "resolved" in notice.json_args["text"]
    [dm_update] = desk.bot.wait_calls("chat.update", where=lambda c: c.json_args.get("ts") == root["ts"])
    assert "State: *Resolved*" in json.dumps(dm_update.json_args["blocks"])
    wait_for_listeners(desk.bot)
    assert [c for c in desk.slack.calls("chat.postMessage") if c.json_args.get("channel") == ANN_DM] == [notice]


def test_a_requester_answer_moves_a_request_waiting_on_them_back_to_open(desk: World) -> None:
    reference, post = request(desk, "Our card changed")
    say(desk, message_event(STAFF_CHANNEL, STAFF, "Send the new details?", post["ts"]))
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c in dm_thread_posts(desk))
    root = dm_root(desk, reference)
    waiting = button_in(post["blocks"], "Waiting on customer")
    desk.bot.press(waiting["action_id"], waiting["value"], user=STAFF, channel_id=STAFF_CHANNEL, message=post)
    wait_until(lambda: desk.bot.services.escalations.get(reference).state == "waiting", 10, "waiting")

    wait_for_listeners(desk.bot)
    desk.slack.clear()
    say(desk, message_event(ANN_DM, ANN, "Updated it in the portal", root["ts"]))
    wait_until(lambda: desk.bot.services.escalations.get(reference).state == "open", 10, "open again")
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c in staff_thread_posts(desk, post["ts"]))
    [staff_update] = desk.bot.wait_calls("chat.update", where=lambda c: c.json_args.get("ts") == post["ts"])
    assert "State: *Open*" in json.dumps(staff_update.json_args["blocks"])
    wait_for_listeners(desk.bot)
    # A second answer changes no state: nothing is redrawn.
    desk.slack.clear()
    say(desk, message_event(ANN_DM, ANN, "And the VAT number too", root["ts"]))
    desk.bot.wait_calls("chat.postMessage", where=lambda c: c in staff_thread_posts(desk, post["ts"]))
    wait_for_listeners(desk.bot)
    assert desk.slack.calls("chat.update") == []
