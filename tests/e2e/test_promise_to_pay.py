"""Promise to pay, end to end: a reminder DM's "I'll pay on…" button, the modal's date picker,
its submission over signed HTTP into ``serve``'s app, and the sweep with a moved clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from billing_core.db.tables import AuditEventRecord, PromiseToPayRecord
from devtools.loopback.slack_api import RecordedCall
from devtools.loopback.slack_signing import datepicker_value
from handlers.reminders.ids import REMINDER_PROMISE_MODAL, REMINDER_PROMISE_OPEN_ACTION
from handlers.reminders.payloads import PROMISE_DATE_BLOCK, PROMISE_DATE_INPUT
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, wait_until
from tests.support.sample_accounts import PETER_ID
from tests.support.slack_calls import landed_in

ANN_DM = f"D{ANN}"
WEDNESDAY = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in Ann's New York: inside working hours


def reminder_dm(world: World) -> RecordedCall:
    world.bot.clock.set(WEDNESDAY)
    world.bot.services.reminders.run_sweep()  # Ann: INV-1 and Globex's G-7 overdue, INV-2 due in 6 days
    return next(c for c in world.slack.calls("chat.postMessage") if landed_in(c) == ANN_DM)


def promise_button(dm: RecordedCall) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        element
        for block in dm.json_args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == REMINDER_PROMISE_OPEN_ACTION
    ]
    assert len(found) == 1
    return found[0]


def open_modal(world: World, value: str, user: str = ANN) -> dict[str, Any]:
    response, _ = world.bot.press(REMINDER_PROMISE_OPEN_ACTION, value, user=user, channel_id=ANN_DM)
    assert response.status_code == 200
    return world.bot.last_view(where=lambda view: view.get("callback_id") == REMINDER_PROMISE_MODAL)


def submit(world: World, day: str | None, metadata: str, user: str = ANN) -> Any:
    values = {PROMISE_DATE_BLOCK: {PROMISE_DATE_INPUT: datepicker_value(day)}}
    return world.bot.submit_values(REMINDER_PROMISE_MODAL, values, metadata, user=user)


def promises(world: World) -> list[tuple[str, str]]:
    with world.bot.db.read() as session:
        return [
            (str(p.promised_on), p.status)
            for p in session.scalars(select(PromiseToPayRecord).order_by(PromiseToPayRecord.id))
        ]


def audit_actions(world: World) -> list[str]:
    with world.bot.db.read() as session:
        return [
            a for a in session.scalars(select(AuditEventRecord.action).order_by(AuditEventRecord.id)) if "promise" in a
        ]


def dms_to_ann(world: World) -> list[str]:
    return [str(c.json_args.get("text", "")) for c in world.slack.calls("chat.postMessage") if landed_in(c) == ANN_DM]


def test_a_promise_pauses_the_accounts_reminders_until_its_day_then_a_broken_one_restarts_them(world: World) -> None:
    button = promise_button(reminder_dm(world))
    assert json.loads(button["value"]) == {"account": "acme"}

    modal = open_modal(world, button["value"])
    [picker_block] = [b for b in modal["blocks"] if b.get("block_id") == PROMISE_DATE_BLOCK]
    assert picker_block["element"]["type"] == "datepicker"
    assert "Acme Corp" in json.dumps(modal["blocks"])

    world.slack.clear()
    response = submit(world, "2026-12-04", modal["private_metadata"])
    assert response.status_code == 200
    wait_until(lambda: any("paused reminders" in t for t in dms_to_ann(world)), 10, "the DM confirmation")
    [confirmation] = [t for t in dms_to_ann(world) if "paused reminders" in t]
    assert "4 Dec 2026" in confirmation
    assert promises(world) == [("2026-12-04", "open")]
    assert audit_actions(world) == ["reminders.promise_to_pay"]

    # Tuesday 1 Dec: INV-2 falls due (a reminder step), but the account is paused.
    world.slack.clear()
    world.bot.clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    world.bot.services.reminders.run_sweep()
    assert dms_to_ann(world) == []

    # Monday 7 Dec: the day has passed with INV-1 and INV-2 still open: broken, reminders restart.
    world.bot.clock.set(datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    result = world.bot.services.reminders.run_sweep()
    assert [t for t in dms_to_ann(world) if "INV-2" in t]
    assert any("1 broken" in note for note in result.notes)
    assert promises(world) == [("2026-12-04", "broken")]
    assert audit_actions(world) == ["reminders.promise_to_pay", "reminders.promise_broken"]


def test_a_day_in_the_past_or_too_far_ahead_is_refused_in_the_modal_and_nothing_is_paused(world: World) -> None:
    modal = open_modal(world, promise_button(reminder_dm(world))["value"])

    for day in ("2026-11-25", "2026-11-20", "2027-01-25", None, "not-a-date"):
        response = submit(world, day, modal["private_metadata"])
        assert response.status_code == 200
        answer = response.json()
        assert answer["response_action"] == "errors"
        assert "within the next 60 days" in answer["errors"][PROMISE_DATE_BLOCK]
    assert promises(world) == []


def test_someone_who_is_no_contact_of_the_account_cannot_promise_for_it(world: World) -> None:
    metadata = json.dumps({"account": "acme"})
    world.bot.clock.set(WEDNESDAY)

    response = submit(world, "2026-12-04", metadata, user=PETER_ID)  # Peter is Initech's contact
    assert response.status_code == 200
    wait_until(
        lambda: any(landed_in(c) == f"D{PETER_ID}" for c in world.slack.calls("chat.postMessage")),
        10,
        "Peter's answer",
    )
    assert promises(world) == []
    world.slack.clear()
    world.bot.clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    world.bot.services.reminders.run_sweep()
    assert [t for t in dms_to_ann(world) if "INV-2" in t]  # Ann's reminders were never paused


def test_a_promise_kept_ends_quietly(world: World) -> None:
    modal = open_modal(world, promise_button(reminder_dm(world))["value"])
    submit(world, "2026-11-30", modal["private_metadata"])
    wait_until(lambda: promises(world) == [("2026-11-30", "open")], 10, "the promise")
    with world.bot.db.transaction() as session:
        from billing_core.db.tables import InvoiceRecord

        for invoice in session.scalars(select(InvoiceRecord).where(InvoiceRecord.status == "open")):
            invoice.status = "paid"
            invoice.amount_paid_minor = invoice.amount_due_minor

    world.bot.clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    world.bot.services.reminders.run_sweep()

    assert promises(world) == [("2026-11-30", "kept")]
