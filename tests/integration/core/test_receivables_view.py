"""The staff view's reads: the aging totals and the most overdue page, exact and current on every read.

The sample (as of Wednesday 25 Nov 2026): Acme owes $1,250.00 overdue (INV-1001, due 1 Nov) and
$500.50 not yet due; Initech owes ¥125,000 overdue (due 20 Nov); Globex €99.00 not yet due.
"""

from __future__ import annotations

import pytest

from billing_core.container import Services
from billing_core.staff.desk import StaffDesk
from billing_core.views import Actor
from tests.integration.core.sample_data import sample

STAFF = Actor(email="sam@vendor.test", principal="slack:T1:WSTAFF")


@pytest.fixture
def desk(services: Services) -> StaffDesk:
    services.importer.run(sample())
    assert services.staff is not None
    return services.staff


def test_the_totals_put_each_currency_s_open_amounts_in_their_buckets(desk: StaffDesk) -> None:
    totals = {aging.currency: aging.as_dict() for aging in desk.overview().totals}

    assert totals == {
        "eur": {"current": 9900, "1-30": 0, "31-60": 0, "61-90": 0, "90+": 0},
        "jpy": {"current": 0, "1-30": 125000, "31-60": 0, "61-90": 0, "90+": 0},
        "usd": {"current": 50050, "1-30": 125000, "31-60": 0, "61-90": 0, "90+": 0},
    }


def test_next_is_offered_only_while_more_overdue_accounts_follow_the_page(desk: StaffDesk) -> None:
    first = desk.overview(page=0, page_size=1)
    second = desk.overview(page=1, page_size=1)
    everything = desk.overview(page=0, page_size=10)

    assert [row.external_id for row in first.accounts] == ["acme"] and first.more  # ranked by minor units
    assert [row.external_id for row in second.accounts] == ["initech"] and not second.more
    assert [row.external_id for row in everything.accounts] == ["acme", "initech"] and not everything.more


def test_a_page_past_the_end_shows_the_first_page(desk: StaffDesk) -> None:
    overview = desk.overview(page=5, page_size=1)

    assert overview.page == 0 and [row.external_id for row in overview.accounts] == ["acme"]


def test_an_invoice_closed_by_staff_leaves_the_totals_and_the_ranking_at_once(desk: StaffDesk) -> None:
    assert desk.mark_paid_elsewhere(STAFF, "acme", "INV-1001", method="wire", reference="W-1")
    assert desk.void(STAFF, "initech", "INV-1001")

    overview = desk.overview()

    assert overview.accounts == [] and not overview.more
    totals = {aging.currency: aging.as_dict() for aging in overview.totals}
    assert totals["usd"] == {"current": 50050, "1-30": 0, "31-60": 0, "61-90": 0, "90+": 0}
    assert "jpy" not in totals
