"""The staff receivables view end to end: ``serve``'s app over signed HTTP, the Slack stand-in.

Billing staff are the members of the private support channel. The sample accounts (as of
Wednesday 25 Nov 2026) give a known aging: USD current $500.50 (Acme INV-2), 1-30 days $1,320.00
(Acme INV-1 $1,250.00, Initech I-1 $70.00); EUR 90+ €30.00 (Globex G-7).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from billing_core.db.tables import AuditEventRecord, InvoiceRecord, ReminderHoldRecord
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import (
    app_home_opened_event,
    datepicker_value,
    select_input_value,
    text_input_value,
)
from handlers.staff.ids import (
    STAFF_CLOSE_MODAL,
    STAFF_PAUSE_MODAL,
    STAFF_REMIND_NOW_ACTION,
    STAFF_RESUME_ACTION,
)
from handlers.staff.payloads import (
    CLOSE_HOW_BLOCK,
    CLOSE_HOW_INPUT,
    CLOSE_INVOICE_BLOCK,
    CLOSE_INVOICE_INPUT,
    CLOSE_METHOD_BLOCK,
    CLOSE_METHOD_INPUT,
    CLOSE_REFERENCE_BLOCK,
    CLOSE_REFERENCE_INPUT,
    PAUSE_DATE_BLOCK,
    PAUSE_DATE_INPUT,
)
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, ANN_ACTOR, wait_until
from tests.support.slack_calls import landed_in

STAFF_CHANNEL = "CSTAFF31"
STAFF = "W731"
HOME = {"type": "home", "id": "VHOME", "private_metadata": ""}
ACME = json.dumps({"account": "acme"})
ANN_DM = f"D{ANN}"


@pytest.fixture(scope="module")
def bot_overrides(slack: SlackAPI) -> dict[str, str]:
    slack.add_user(STAFF, "sam@vendor.test", "Sam Staff")
    slack.add_channel(STAFF_CHANNEL, private=True, members=[STAFF])
    return {"SUPPORT_SLACK_CHANNEL": STAFF_CHANNEL}


@pytest.fixture(autouse=True)
def wednesday(world: World) -> None:
    """Each test starts on Wednesday 25 Nov 2026 (a test before may have moved the clock)."""
    world.bot.clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))


def published(world: World, user: str) -> list[dict[str, Any]]:
    return [c.json_args["view"] for c in world.slack.calls("views.publish") if c.json_args.get("user_id") == user]


def open_home(world: World, user: str) -> dict[str, Any]:
    world.slack.clear()
    world.bot.event(app_home_opened_event(user_id=user, channel=f"D{user}"))
    wait_until(lambda: published(world, user), 10, "the Home")
    return published(world, user)[-1]


def said(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def audit(world: World, action: str) -> list[AuditEventRecord]:
    with world.bot.db.read() as session:
        rows = list(session.scalars(select(AuditEventRecord).where(AuditEventRecord.action == action)))
        session.expunge_all()
        return rows


def hold_until(world: World) -> list[datetime]:
    with world.bot.db.read() as session:
        return list(session.scalars(select(ReminderHoldRecord.until)))


def test_a_member_of_the_support_channel_sees_the_aging_totals_and_the_most_overdue_accounts(world: World) -> None:
    view = open_home(world, STAFF)

    text = said(view)
    assert "Receivables" in text
    assert "Current $500.50" in text and "1–30 days $1,320.00" in text  # USD
    assert "90+ €30.00" in text  # EUR, never added to dollars
    names = [name for name in ("Acme Corp", "Initech", "Globex") if name in text]
    assert names == ["Acme Corp", "Initech", "Globex"]
    assert text.index("Acme Corp") < text.index("*Initech*") < text.index("*Globex*")  # most overdue first
    assert "Autopay: off" in text and "Promise to pay: none" in text


def test_a_customer_opening_the_home_keeps_their_own_billing_and_sees_no_receivables(world: World) -> None:
    view = open_home(world, ANN)

    assert "Receivables" not in said(view)
    assert "Initech" not in said(view)


def test_customers_opening_their_home_again_and_again_cost_no_slack_call_for_the_staff_check(world: World) -> None:
    open_home(world, ANN)  # the support channel's members are listed at most once in a while
    for _ in range(3):
        view = open_home(world, ANN)
        assert "Receivables" not in said(view)
        assert world.slack.calls("conversations.members") == [] and world.slack.calls("conversations.info") == []


def test_a_staff_member_is_confirmed_with_slack_on_every_open_so_removal_takes_effect_at_once(world: World) -> None:
    open_home(world, STAFF)
    world.slack.add_channel(STAFF_CHANNEL, private=True, members=[])  # removed from the channel
    try:
        view = open_home(world, STAFF)
        assert "Receivables" not in said(view)
        assert world.slack.calls("conversations.members")  # asked live, not from the kept list
    finally:
        world.slack.add_channel(STAFF_CHANNEL, private=True, members=[STAFF])


def test_a_non_member_pressing_a_staff_button_is_refused_politely_audited_and_nothing_changes(world: World) -> None:
    world.bot.press(STAFF_RESUME_ACTION, ACME, user=ANN, view=HOME)
    refusal = world.bot.last_view(where=lambda v: "billing staff" in json.dumps(v))
    assert "only for billing staff" in json.dumps(refusal)

    response = world.bot.submit_values(
        STAFF_PAUSE_MODAL, {PAUSE_DATE_BLOCK: {PAUSE_DATE_INPUT: datepicker_value("2026-12-10")}}, ACME, user=ANN
    )
    assert response.status_code == 200
    wait_until(lambda: len(audit(world, "forgery.refused")) == 2, 10, "two audited refusals")
    assert all("NotBillingStaff" in a.detail and a.target == "acme" for a in audit(world, "forgery.refused"))
    assert hold_until(world) == []
    assert not [v for v in published(world, ANN) if "Receivables" in said(v)]


def test_staff_pause_an_account_so_its_reminders_stop_then_resume_them(world: World) -> None:
    response = world.bot.submit_values(
        STAFF_PAUSE_MODAL, {PAUSE_DATE_BLOCK: {PAUSE_DATE_INPUT: datepicker_value("2026-12-10")}}, ACME, user=STAFF
    )
    assert response.status_code == 200
    wait_until(lambda: hold_until(world), 10, "the hold")
    wait_until(lambda: any("paused until 10 Dec 2026" in said(v) for v in published(world, STAFF)), 10, "notice")
    assert [a.actor for a in audit(world, "reminders.staff_hold")] == ["sam@vendor.test"]

    world.slack.clear()
    world.bot.clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # INV-2 falls due: a step for Ann
    world.bot.services.reminders.run_sweep()
    to_ann = [c.json_args["text"] for c in world.slack.calls("chat.postMessage") if landed_in(c) == ANN_DM]
    assert not [t for t in to_ann if "INV-2" in t]

    world.bot.press(STAFF_RESUME_ACTION, ACME, user=STAFF, view=HOME)
    wait_until(lambda: not hold_until(world), 10, "the hold lifted")
    world.bot.clock.set(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    world.bot.services.reminders.run_sweep()
    to_ann = [c.json_args["text"] for c in world.slack.calls("chat.postMessage") if landed_in(c) == ANN_DM]
    assert [t for t in to_ann if "INV-2" in t]


def test_send_a_reminder_now_sends_once(world: World) -> None:
    def dms() -> list[str]:
        return [c.json_args["text"] for c in world.slack.calls("chat.postMessage") if landed_in(c) == ANN_DM]

    world.bot.press(STAFF_REMIND_NOW_ACTION, ACME, user=STAFF, view=HOME)
    wait_until(lambda: len(dms()) == 1, 10, "one reminder DM")
    assert "INV-1" in dms()[0] and "INV-2" in dms()[0]

    world.bot.press(STAFF_REMIND_NOW_ACTION, ACME, user=STAFF, view=HOME)
    wait_until(lambda: any("already sent today" in said(v) for v in published(world, STAFF)), 10, "the notice")
    assert len(dms()) == 1


def test_staff_mark_an_invoice_paid_elsewhere_and_it_leaves_the_aging(world: World) -> None:
    values = {
        CLOSE_INVOICE_BLOCK: {CLOSE_INVOICE_INPUT: select_input_value("INV-1")},
        CLOSE_HOW_BLOCK: {CLOSE_HOW_INPUT: select_input_value("paid_elsewhere")},
        CLOSE_METHOD_BLOCK: {CLOSE_METHOD_INPUT: text_input_value("wire")},
        CLOSE_REFERENCE_BLOCK: {CLOSE_REFERENCE_INPUT: text_input_value("BANK-42")},
    }
    assert world.bot.submit_values(STAFF_CLOSE_MODAL, values, ACME, user=STAFF).status_code == 200

    wait_until(lambda: audit(world, "staff.paid_elsewhere"), 10, "the audit row")
    with world.bot.db.read() as session:
        invoice = session.scalars(select(InvoiceRecord).where(InvoiceRecord.number == "INV-1")).one()
        assert (invoice.status, invoice.closed_as) == ("paid", "paid_elsewhere")
    assert "1–30 days $70.00" in said(open_home(world, STAFF))


def test_a_broken_promise_is_flagged_in_the_view(world: World) -> None:
    world.bot.services.reminders.promises.promise(ANN_ACTOR, "acme", date(2026, 11, 27))
    assert ":handshake: Promised to pay on 27 Nov 2026" in said(open_home(world, STAFF))

    world.bot.clock.set(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    world.bot.services.reminders.run_sweep()

    assert "Promise BROKEN" in said(open_home(world, STAFF))
