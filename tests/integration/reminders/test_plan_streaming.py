"""The streamed plan: big DMs split, reads re-opened mid-plan, and the same DMs however it is read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from billing_core.db import streaming
from billing_core.reminders.plan import (
    MAX_INVOICES_PER_DM,
    ReminderGroup,
    group_reminders,
    iter_due,
    iter_groups,
)
from billing_core.reminders.service import ReminderService
from tests.integration.reminders.conftest import account, invoice, utc

NOW = utc(2026, 11, 25, 15)

DM = tuple[str, str, int, tuple[str, ...]]


def _dms(groups: list[ReminderGroup]) -> list[DM]:
    return [(g.email, g.contact_name, g.step, tuple(r.line.invoice_number for r in g.reminders)) for g in groups]


def _load_people(load: Callable[..., None]) -> None:
    due = NOW.date()
    load(
        account(
            "acme",
            [("ann@acme.test", "Ann Lee"), ("bob@acme.test", "Bob Ray")],
            [invoice(f"A-{n:02d}", due) for n in range(23)] + [invoice("A-LATE", due - timedelta(days=3))],
        ),
        account(
            "globex",
            [("ann@acme.test", "Ann Lee"), ("cy@globex.test", "Cy")],
            [invoice("G-1", due), invoice("G-2", due + timedelta(days=7))],
        ),
        account("initech", [("dee@initech.test", "Dee")], [invoice("I-1", due - timedelta(days=14))]),
    )


def test_a_person_with_more_invoices_due_than_fit_in_one_dm_gets_them_in_several(
    load: Callable[..., None], reminders: ReminderService
) -> None:
    _load_people(load)

    groups = list(iter_groups(reminders._db, reminders.schedule, reminders.window(NOW)))
    bob_today = [g for g in groups if g.email == "bob@acme.test" and g.step == 0]

    assert [g.size for g in bob_today] == [MAX_INVOICES_PER_DM, 3]
    assert _dms(bob_today)[1][3] == ("A-20", "A-21", "A-22")


def test_planning_that_reopens_its_read_after_every_person_plans_the_same_dms(
    load: Callable[..., None], reminders: ReminderService
) -> None:
    _load_people(load)
    window = reminders.window(NOW)

    in_one_read = _dms(list(iter_groups(reminders._db, reminders.schedule, window)))
    reopened = _dms(list(iter_groups(reminders._db, reminders.schedule, window, fetch_rows=3, hold_seconds=0)))

    assert reopened == in_one_read
    assert [(email, step) for email, _, step, _ in in_one_read] == [
        ("ann@acme.test", -7),
        ("ann@acme.test", 0),
        ("ann@acme.test", 0),
        ("ann@acme.test", 3),
        ("bob@acme.test", 0),
        ("bob@acme.test", 0),
        ("bob@acme.test", 3),
        ("cy@globex.test", -7),
        ("cy@globex.test", 0),
        ("dee@initech.test", 14),
    ]


def test_the_streamed_plan_and_the_reminder_by_reminder_plan_are_the_same_dms(
    load: Callable[..., None], reminders: ReminderService
) -> None:
    _load_people(load)
    window = reminders.window(NOW)

    streamed = list(iter_groups(reminders._db, reminders.schedule, window, fetch_rows=4))
    regrouped = list(group_reminders(iter_due(reminders._db, reminders.schedule, window, page_size=5)))

    assert streamed == regrouped
    assert sum(g.size for g in streamed) == 26 + 24 + 2 + 1  # ann, bob, cy, dee


def test_planning_through_a_server_side_cursor_plans_the_same_dms_as_a_chunked_stream(
    load: Callable[..., None], reminders: ReminderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A libpq older than 17 cannot stream in chunks; PostgreSQL is then read through a cursor.
    _load_people(load)
    window = reminders.window(NOW)
    streamed = _dms(list(iter_groups(reminders._db, reminders.schedule, window, fetch_rows=3)))

    monkeypatch.setattr(streaming, "chunked_streams", lambda: False)

    assert _dms(list(iter_groups(reminders._db, reminders.schedule, window, fetch_rows=3))) == streamed
