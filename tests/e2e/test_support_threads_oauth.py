"""Support threads across workspaces (OAuth): billing staff in the vendor's workspace, the requester
in their company's. Each side is reached through its own workspace's installation, and a message
event from a customer's workspace naming the support channel reaches nobody.

``billing-bot serve``'s app on uvicorn, signed HTTP from "Slack", the Slack stand-in answering per token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from billing_core.db.tables import AuditEventRecord
from bot.slack.oauth import installation_store
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from devtools.loopback.slack_signing import event_body, slash_command_body
from tests.support.bot_harness import ANN, SAMPLE, BotServer, wait_for_listeners, wait_until
from tests.support.many_workspaces import installation
from tests.support.template_db import migrated_sqlite_url

VENDOR, CUSTOMER = "TVENDOR", "TACME"
TOKENS = {VENDOR: "xoxb-vendor", CUSTOMER: "xoxb-acme"}
STAFF_CHANNEL, STAFF = "GSTAFF01", "W777"
ANN_DM = f"D{ANN}"
REFERENCE = re.compile(r"ESC-\d{6,}")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[BotServer, SlackAPI]]:
    with SlackAPI() as slack:
        slack.add_user(ANN, "ann@acme.test", "Ann Lee", team_id=CUSTOMER)
        slack.add_user(STAFF, "sam@vendor.test", "Sam Staff", team_id=VENDOR)
        slack.add_channel(STAFF_CHANNEL, private=True, members=[STAFF, "UBOT"])
        bot = BotServer(
            slack,
            "http://127.0.0.1:9",
            migrated_sqlite_url(tmp_path / "threads.db"),
            SLACK_CLIENT_ID="111.222",
            SLACK_CLIENT_SECRET="shh",
            IDENTITY_VERIFICATION="slack_email",
            SLACK_EMAIL_TRUSTED_TEAMS=CUSTOMER,
            SUPPORT_SLACK_CHANNEL=STAFF_CHANNEL,
            SUPPORT_SLACK_TEAM=VENDOR,
        )
        store = installation_store(bot.settings, bot.db.engine)
        for team, token in TOKENS.items():
            store.save(installation(team, token))
            slack.add_workspace(team, token)
        bot.start()
        bot.services.importer.run(SAMPLE)
        try:
            yield bot, slack
        finally:
            bot.stop()


def posts(slack: SlackAPI, channel: str, thread_ts: str | None = None) -> list[RecordedCall]:
    return [
        c
        for c in slack.calls("chat.postMessage")
        if c.json_args.get("channel") == channel and (thread_ts is None or c.json_args.get("thread_ts") == thread_ts)
    ]


def message(channel: str, user: str, text: str, ts: str, thread_ts: str) -> dict[str, Any]:
    kind = "im" if channel.startswith("D") else "group"
    return {
        "type": "message",
        "channel": channel,
        "channel_type": kind,
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
    }


def test_each_side_of_a_thread_is_reached_through_its_own_workspace(desk: tuple[BotServer, SlackAPI]) -> None:
    bot, slack = desk
    response = bot.post(slash_command_body("support Our VAT number changed", user_id=ANN, team_id=CUSTOMER))
    assert response.status_code == 200
    [post] = bot.wait_calls("chat.postMessage", where=lambda c: c.json_args.get("channel") == STAFF_CHANNEL)
    assert post.token == TOKENS[VENDOR]
    match = REFERENCE.search(post.json_args["text"])
    assert match
    reference, post_ts = match.group(0), (post.response or {})["message"]["ts"]
    wait_until(lambda: bot.services.escalations.get(reference).staff_ts == post_ts, 10, "the post's ts")

    staff_reply = message(STAFF_CHANNEL, STAFF, "Send us the new one?", "1800000000.000001", post_ts)
    assert bot.post(event_body(staff_reply, team_id=VENDOR)).status_code == 200
    wait_until(lambda: [c for c in posts(slack, ANN_DM) if c.json_args.get("thread_ts")], 10, "the DM reply")
    dm_calls = posts(slack, ANN_DM)
    assert {c.token for c in dm_calls} == {TOKENS[CUSTOMER]}  # the requester's own workspace
    [root] = [c for c in dm_calls if not c.json_args.get("thread_ts")]
    root_ts = (root.response or {})["message"]["ts"]

    answer = message(ANN_DM, ANN, "It is DE123456789", "1800000000.000002", root_ts)
    assert bot.post(event_body(answer, team_id=CUSTOMER)).status_code == 200
    wait_until(lambda: posts(slack, STAFF_CHANNEL, post_ts), 10, "the answer in the staff thread")
    [relayed] = posts(slack, STAFF_CHANNEL, post_ts)
    assert relayed.token == TOKENS[VENDOR] and "It is DE123456789" in json.dumps(relayed.json_args)


def test_a_message_from_a_customers_workspace_naming_the_support_channel_reaches_nobody(
    desk: tuple[BotServer, SlackAPI],
) -> None:
    bot, slack = desk
    bot.post(slash_command_body("support Please call me", user_id=ANN, team_id=CUSTOMER))
    [post] = bot.wait_calls("chat.postMessage", where=lambda c: c.json_args.get("channel") == STAFF_CHANNEL)
    match = REFERENCE.search(post.json_args["text"])
    assert match
    post_ts = (post.response or {})["message"]["ts"]
    wait_until(lambda: bot.services.escalations.get(match.group(0)).staff_ts == post_ts, 10, "the post's ts")

    # The staff member's id and the channel's, but signed as an event of the customer's workspace.
    forged = message(STAFF_CHANNEL, STAFF, "Your card is fine, pay here", "1800000000.000003", post_ts)
    assert bot.post(event_body(forged, team_id=CUSTOMER)).status_code == 200
    wait_for_listeners(bot)

    assert posts(slack, ANN_DM) == []
    with bot.db.read() as session:
        refused = session.scalars(
            select(AuditEventRecord.detail).where(
                AuditEventRecord.action == "escalation.message", AuditEventRecord.outcome == "refused"
            )
        ).all()
    assert [json.loads(detail)["team"] for detail in refused] == [CUSTOMER]
