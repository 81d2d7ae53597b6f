"""The staff view's and the promise modal's builders stay inside Slack's limits with extreme
inputs (Slack's Block Kit limits): many accounts and currencies, 128-character ids, long names full of markup,
huge amounts, a hundred and more open invoices and requests."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from billing_core.accounts.receivables import Aging
from billing_core.money import Money
from billing_core.reminders.promises import PromiseView
from billing_core.staff.desk import DeskAccount, DeskOverview, MonthFigures, OpenInvoice, OpenRequest
from billing_core.views import AccountView
from handlers.reminders.blocks import promise_confirmed_screen, promise_modal
from handlers.staff.blocks import close_modal, pause_modal, requests_screen, staff_home_view
from tests.support.block_limits import message_problems, view_problems

TODAY = date(2026, 12, 7)
HUGE = 9_999_999_999_999_999
LONG_ID = "a" * 128
NASTY = "<!channel> *Ü* <https://evil|click> & " + "Ü" * 300
CURRENCIES = ["usd", "eur", "jpy", "gbp", "chf", "sek", "nok", "dkk", "pln", "czk", "huf", "cad", "aud"]


def extreme_overview(accounts: int = 500) -> DeskOverview:
    rows = [
        DeskAccount(
            f"{LONG_ID[:-4]}{i:04d}",
            NASTY,
            Aging(CURRENCIES[i % len(CURRENCIES)], (HUGE, HUGE, HUGE, HUGE, HUGE)),
            date(2020, 1, 1),
            datetime(2026, 12, 1, tzinfo=UTC),
            None,
            10_000,
            i % 2 == 0,
            PromiseView(LONG_ID, NASTY, date(2026, 12, 1), datetime(2026, 12, 2, tzinfo=UTC), "broken", "x@y.test"),
            datetime(2027, 1, 1, tzinfo=UTC),
        )
        for i in range(accounts)
    ]
    figures = MonthFigures(
        TODAY.replace(day=1),
        {c: HUGE for c in CURRENCIES},
        {c: HUGE for c in CURRENCIES},
        {c: 99_999 for c in CURRENCIES},
        10**9,
        10**9 - 1,
    )
    totals = [Aging(c, (HUGE,) * 5) for c in CURRENCIES]
    return DeskOverview(TODAY, totals, rows, True, 0, 10, figures)


def test_the_staff_home_with_many_accounts_currencies_and_huge_amounts_is_a_valid_home_view() -> None:
    view = staff_home_view(extreme_overview(), notice=NASTY)
    view["private_metadata"] = json.dumps({"page": 0})

    assert view_problems(view) == []
    text = json.dumps(view)
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "Promise BROKEN" in text
    assert "more currencies" in text


def test_an_empty_ledger_shows_nothing_overdue() -> None:
    empty = DeskOverview(TODAY, [], [], False, 0, 10, MonthFigures(TODAY.replace(day=1)))

    view = staff_home_view(empty)

    assert view_problems(view) == []
    assert "Nothing is overdue" in json.dumps(view)


def test_the_close_modal_lists_at_most_a_hundred_invoices_with_long_numbers() -> None:
    invoices = [OpenInvoice(f"{'N' * 120}{i:05d}", Money(HUGE, "usd"), TODAY) for i in range(250)]

    view = close_modal(LONG_ID, NASTY, invoices)

    assert view_problems(view) == []
    assert view_problems(close_modal(LONG_ID, NASTY, [])) == []


def test_the_pause_and_promise_modals_keep_within_limits_with_long_names() -> None:
    account = AccountView(LONG_ID, NASTY, "usd", Money(HUGE, "usd"), 10_000, TODAY)

    assert view_problems(pause_modal(LONG_ID, NASTY, TODAY)) == []
    assert view_problems(promise_modal(account, TODAY)) == []


def test_many_long_requests_fit_one_modal_and_a_confirmation_fits_a_dm() -> None:
    requests = [
        OpenRequest(f"ESC-{i:06d}", NASTY, NASTY, "a@" + "b" * 300, NASTY * 5, datetime(2026, 12, 1, tzinfo=UTC))
        for i in range(200)
    ]
    screen = requests_screen(NASTY, requests)
    promise = PromiseView(LONG_ID, NASTY, TODAY, datetime(2026, 12, 8, tzinfo=UTC), "open", "x@y.test")
    confirmed = promise_confirmed_screen(promise)

    assert message_problems(screen.blocks, screen.text) == []
    assert "<!channel>" not in json.dumps(screen.blocks)
    assert message_problems(confirmed.blocks, confirmed.text) == []
