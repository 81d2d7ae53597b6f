"""The staff view's reads: the aging totals and the most overdue page, exact and current on every read,
and revision 0012's summary of open balances they rank from, against the invoices after every kind of write.

The sample (as of Wednesday 25 Nov 2026): Acme owes $1,250.00 overdue (INV-1001, due 1 Nov) and
$500.50 not yet due; Initech owes ¥125,000 overdue (due 20 Nov); Globex €99.00 not yet due.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, inspect, select, text

from billing_core.accounts import receivables
from billing_core.accounts.receivables import BUCKETS, Aging, bucket_cutoffs, bucket_index, most_overdue
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database, alembic_config
from billing_core.db.tables import AccountRecord, InvoiceRecord, OpenBalanceRecord, PaymentInvoiceRecord, PaymentRecord
from billing_core.payments.settlement import mark_succeeded
from billing_core.sources.push import PushService
from billing_core.staff.desk import StaffDesk
from billing_core.views import Actor
from tests.integration.core.sample_data import sample
from tests.support.sample_accounts import account, invoice

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


# -- revision 0012's summary (billing_open_balance, kept by triggers) against the invoices ------


def _invoices_answer(db: Database, today: date) -> tuple[list[Aging], list[tuple[str, str, tuple[int, ...]]]]:
    """The totals and the full ranking computed in Python from every invoice row, no SQL aggregate."""
    cutoffs = bucket_cutoffs(today)
    with db.read() as session:
        rows = session.execute(
            select(
                AccountRecord.id,
                AccountRecord.external_id,
                InvoiceRecord.currency,
                InvoiceRecord.due_on,
                InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor,
            )
            .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
            .where(InvoiceRecord.status == "open")
        ).all()
    totals: dict[str, list[int]] = {}
    pairs: dict[tuple[int, str, str], list[int]] = {}
    oldest: dict[tuple[int, str, str], date] = {}
    for account_pk, external_id, currency, due_on, amount in rows:
        index = bucket_index(due_on, cutoffs)
        totals.setdefault(currency, [0] * len(BUCKETS))[index] += amount
        key = (account_pk, external_id, currency)
        pairs.setdefault(key, [0] * len(BUCKETS))[index] += amount
        if index > 0:
            oldest[key] = min(oldest.get(key, due_on), due_on)
    ranked = sorted(
        (key for key, amounts in pairs.items() if sum(amounts[1:]) > 0),
        key=lambda key: (-sum(pairs[key][1:]), oldest[key], key[0], key[2]),
    )
    return (
        [Aging(currency, tuple(amounts)) for currency, amounts in sorted(totals.items())],
        [(external_id, currency, tuple(pairs[(pk, external_id, currency)])) for pk, external_id, currency in ranked],
    )


def _summary_from_invoices(db: Database) -> dict[tuple[int, str], tuple[int, int]]:
    with db.read() as session:
        rows = session.execute(
            select(
                InvoiceRecord.account_id,
                InvoiceRecord.currency,
                InvoiceRecord.amount_due_minor,
                InvoiceRecord.amount_paid_minor,
            ).where(InvoiceRecord.status == "open")
        ).all()
    summary: dict[tuple[int, str], tuple[int, int]] = {}
    for account_pk, currency, due, paid in rows:
        count, owed = summary.get((account_pk, currency), (0, 0))
        summary[(account_pk, currency)] = (count + 1, owed + max(due - paid, 0))
    return summary


def _summary(db: Database) -> dict[tuple[int, str], tuple[int, int]]:
    with db.read() as session:
        rows = session.execute(
            select(
                OpenBalanceRecord.account_id,
                OpenBalanceRecord.currency,
                OpenBalanceRecord.open_count,
                OpenBalanceRecord.owed_minor,
            )
        ).all()
    assert all(owed == 0 for _, _, count, owed in rows if count == 0), rows
    return {(account_pk, currency): (count, owed) for account_pk, currency, count, owed in rows if count}


def assert_view_matches_the_invoices(desk: StaffDesk, db: Database) -> None:
    assert _summary(db) == _summary_from_invoices(db)
    totals, ranked = _invoices_answer(db, desk.today())
    overview = desk.overview(page=0, page_size=100)
    assert overview.totals == totals
    shown = [(row.external_id, row.aging.currency, row.aging.amounts) for row in overview.accounts]
    assert shown == ranked and not overview.more
    paged = []
    for page in range(len(ranked) + 1):  # one row a page: the walk stops early on every page
        one = desk.overview(page=page, page_size=1)
        if one.page != page:
            break
        paged += [(row.external_id, row.aging.currency, row.aging.amounts) for row in one.accounts]
        assert one.more == (page + 1 < len(ranked))
    assert paged == ranked
    with db.read() as session:  # the walk and the one aggregate (past the walk's limit) agree at any depth
        for wanted in range(1, len(ranked) + 2):
            walked = receivables._ranked_by_walk(session, desk.today(), wanted, receivables.WALK_LIMIT)
            assert walked == receivables._ranked_by_aggregate(session, desk.today(), wanted)
        assert most_overdue(session, desk.today(), limit=2, walk_limit=1) == most_overdue(
            session, desk.today(), limit=2
        )


def _more_accounts() -> dict[str, Any]:
    """Eight more accounts in two currencies, some owing far more not yet due than overdue."""
    accounts = []
    for n in range(8):
        currency = "usd" if n % 3 else "eur"
        invoices = [
            invoice(
                f"M-{n}-1",
                "2026-06-01",
                (date(2026, 7, 1) + timedelta(days=9 * n)).isoformat(),
                1_000 * (n + 1),
                currency,
            ),
            invoice(
                f"M-{n}-2",
                "2026-10-01",
                (date(2026, 11, 1) + timedelta(days=3 * n)).isoformat(),
                700 * (8 - n),
                currency,
            ),
            invoice(
                f"M-{n}-3",
                "2026-11-20",
                (date(2026, 12, 5) + timedelta(days=n)).isoformat(),
                50_000 * (n % 4),
                currency,
            ),
        ]
        accounts.append(account(f"more-{n}", f"More {n}", currency, [(f"pay{n}@more.test", f"Payer {n}")], invoices))
    return {"accounts": accounts}


def test_the_summary_and_the_view_built_on_it_equal_the_invoices_after_every_kind_of_write(
    desk: StaffDesk, services: Services, db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receivables, "WALK_BATCH", 1)  # so pages of one row stop the walk early
    assert_view_matches_the_invoices(desk, db)  # the sample, imported

    services.importer.run(_more_accounts())
    assert_view_matches_the_invoices(desk, db)

    changed = _more_accounts()
    more_1, more_2, more_4 = (changed["accounts"][n]["invoices"] for n in (1, 2, 4))
    more_1[0]["amount_due"] = 99_000  # an open invoice's amount corrected by the next file
    more_2[1]["status"] = "paid"  # paid, says the next file
    more_4[0]["status"] = "void"
    services.importer.run(changed)
    assert_view_matches_the_invoices(desk, db)

    push = PushService(db=db, clock=clock, importer=services.importer)
    push.upsert_invoices("more-5", {"invoices": [invoice("M-5-4", "2026-09-01", "2026-09-15", 123_456)]})
    push.void("more-6", "M-6-1")
    push.paid_elsewhere(
        "more-7",
        "M-7-2",
        {"amount": 700, "currency": "usd", "method": "wire", "reference": "W-7", "paid_on": "2026-11-24"},
    )
    assert_view_matches_the_invoices(desk, db)

    _pay(db, clock, "acme", {"INV-1001": 25_000, "INV-1002": 50_050})  # part of one invoice, all of the other
    assert desk.void(STAFF, "more-3", "M-3-1")
    assert desk.mark_paid_elsewhere(STAFF, "initech", "INV-1001", method="wire", reference="W-1")
    assert_view_matches_the_invoices(desk, db)

    with db.transaction() as session:  # rows deleted: one invoice, and an account with its invoices
        session.execute(delete(InvoiceRecord).where(InvoiceRecord.number == "M-0-2"))
        session.execute(delete(AccountRecord).where(AccountRecord.external_id == "more-5"))
    assert_view_matches_the_invoices(desk, db)

    for days in (7, 20, 45, 100):  # due dates pass: the summary needs no write, the buckets move
        clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC) + timedelta(days=days))
        assert_view_matches_the_invoices(desk, db)


def _pay(db: Database, clock: FixedClock, external_id: str, amounts: dict[str, int]) -> None:
    """A card payment of ``amounts`` (by invoice number) settling, as the Stripe webhook settles one."""
    now = clock.now()
    with db.transaction() as session:
        account_pk = session.scalar(select(AccountRecord.id).where(AccountRecord.external_id == external_id))
        assert account_pk is not None
        payment = PaymentRecord(
            account_id=account_pk,
            amount_minor=sum(amounts.values()),
            currency="usd",
            status="pending",
            idempotency_key=f"test-{external_id}",
            started_by_email="ann@acme.test",
            started_by_principal="slack:T1:W1",
            created_at=now,
            updated_at=now,
        )
        session.add(payment)
        session.flush()
        for number, amount in amounts.items():
            invoice_pk = session.scalar(
                select(InvoiceRecord.id).where(InvoiceRecord.account_id == account_pk, InvoiceRecord.number == number)
            )
            assert invoice_pk is not None
            session.add(PaymentInvoiceRecord(payment_id=payment.id, invoice_id=invoice_pk, amount_minor=amount))
        session.flush()
        mark_succeeded(session, payment, now=now)


def test_the_summary_s_triggers_exist_at_head_and_the_migration_back_fills_it(desk: StaffDesk, db: Database) -> None:
    with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            names = connection.scalars(
                text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'billing_invoice'::regclass AND NOT tgisinternal")
            ).all()
        else:
            names = connection.scalars(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'billing_invoice'")
            ).all()
    assert sorted(names) == [
        "billing_invoice_open_balance_delete",
        "billing_invoice_open_balance_insert",
        "billing_invoice_open_balance_update",
    ]
    before = _summary(db)
    assert before == _summary_from_invoices(db) and before  # the sample's open invoices

    command.downgrade(alembic_config(db.url, db.engine), "0011")  # table and triggers gone
    assert "billing_open_balance" not in inspect(db.engine).get_table_names()
    db.upgrade()  # made again from the invoices already there
    assert _summary(db) == before
