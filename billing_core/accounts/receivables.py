"""Receivables: the open amounts by aging bucket, per currency and account, in SQL aggregates.

An invoice's open amount is ``amount_due - amount_paid`` of an open invoice. Its bucket is how many
days past its due date ``today`` is (a calendar day in the billing time zone): ``current`` (not yet
due, or due today), ``1-30``, ``31-60``, ``61-90``, ``90+`` days overdue. The bucket is one SQL
``CASE`` over the due date (four cutoffs computed here), so the database sums; no invoice is read
one by one. Amounts are integers in minor units; currencies are never added together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, literal, select, text
from sqlalchemy.orm import Session

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord

BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")
OVERDUE_BUCKETS = BUCKETS[1:]
_LIMITS = (0, 30, 60, 90)  # the last day overdue of each bucket but 90+


@dataclass(frozen=True, slots=True)
class Aging:
    """Open amounts (minor units of ``currency``) per bucket, in ``BUCKETS`` order."""

    currency: str
    amounts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.amounts)

    @property
    def overdue(self) -> int:
        return sum(self.amounts[1:])

    def as_dict(self) -> dict[str, int]:
        return dict(zip(BUCKETS, self.amounts, strict=True))


@dataclass(frozen=True, slots=True)
class AccountAging:
    account_id: str
    account_name: str
    aging: Aging
    oldest_due_on: date


# For the aggregates on PostgreSQL: hash them in memory (the default 4 MB spills a 100,000-account
# aggregate to disk) and skip JIT (its compile time exceeds its gain on these).
_POSTGRES_SETTINGS = ("SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off")


def tune_for_aggregates(session: Session) -> None:
    """Session settings for this module's aggregates, for the current transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRES_SETTINGS:
            session.execute(text(statement))


def bucket_cutoffs(today: date) -> tuple[date, ...]:
    """The earliest due date of each bucket but 90+: due on or after ``cutoffs[i]`` is in bucket ``i``."""
    return tuple(today - timedelta(days=days) for days in _LIMITS)


def _bucket_sums(today: date) -> list[Any]:
    open_minor = InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor
    cutoffs = bucket_cutoffs(today)
    bucket = case(
        *[(InvoiceRecord.due_on >= cutoff, index) for index, cutoff in enumerate(cutoffs)],
        else_=len(cutoffs),
    )
    return [
        func.coalesce(func.sum(case((bucket == index, open_minor), else_=0)), 0).label(f"b{index}")
        for index in range(len(BUCKETS))
    ]


def _open() -> Any:
    # Inline, not a bound parameter: PostgreSQL then proves the partial index ``WHERE status = 'open'``
    # (revision 0011's ix_billing_invoice_open_aging) applies, also for a prepared statement.
    return InvoiceRecord.status == literal("open", literal_execute=True)


def bucket_index(due_on: date, cutoffs: tuple[date, ...]) -> int:
    """The index in ``BUCKETS`` of an invoice due on ``due_on`` (``cutoffs`` from :func:`bucket_cutoffs`)."""
    return next((index for index, cutoff in enumerate(cutoffs) if due_on >= cutoff), len(cutoffs))


def totals(session: Session, today: date) -> list[Aging]:
    """One line per currency with open invoices, by currency code.

    The database sums the open amounts per (currency, due date), one plain sum over the partial
    index of open invoices (a few hundred groups: one per billing day); the groups are put into
    their buckets here. A sum of five ``CASE`` expressions per invoice cost more than the scan."""
    open_minor = InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor
    rows = session.execute(
        select(InvoiceRecord.currency, InvoiceRecord.due_on, func.sum(open_minor))
        .where(_open())
        .group_by(InvoiceRecord.currency, InvoiceRecord.due_on)
    )
    cutoffs = bucket_cutoffs(today)
    sums: dict[str, list[int]] = {}
    for currency, due_on, amount in rows:
        sums.setdefault(currency, [0] * len(BUCKETS))[bucket_index(due_on, cutoffs)] += int(amount or 0)
    return [Aging(currency, tuple(amounts)) for currency, amounts in sorted(sums.items())]


def _per_account(today: date, account_ids: list[int] | None = None) -> Select[Any]:
    per_invoice = (
        select(InvoiceRecord.account_id, InvoiceRecord.currency, *_bucket_sums(today))
        .add_columns(func.min(InvoiceRecord.due_on).label("oldest"))
        .where(_open())
        .group_by(InvoiceRecord.account_id, InvoiceRecord.currency)
    )
    if account_ids is not None:
        per_invoice = per_invoice.where(InvoiceRecord.account_id.in_(account_ids))
    summed = per_invoice.subquery()
    sums = [summed.c[f"b{index}"] for index in range(len(BUCKETS))]
    return select(
        AccountRecord.external_id,
        AccountRecord.name,
        summed.c.currency,
        *sums,
        summed.c.oldest,
        summed.c.account_id.label("account_pk"),
    ).join(AccountRecord, AccountRecord.id == summed.c.account_id)


def _account_aging(row: Any) -> AccountAging:
    return AccountAging(row[0], row[1], Aging(row[2], tuple(int(v) for v in row[3 : 3 + len(BUCKETS)])), row.oldest)


def by_account(session: Session, today: date) -> Iterator[AccountAging]:
    """Every (account, currency) with an open amount, by currency then account id; streamed."""
    query = _per_account(today).order_by("currency", AccountRecord.external_id)
    for row in session.execute(query.execution_options(yield_per=5_000)):
        yield _account_aging(row)


def most_overdue(session: Session, today: date, *, limit: int, offset: int = 0) -> tuple[list[AccountAging], bool]:
    """A page of the (account, currency) pairs owing the most overdue, largest first (in minor
    units, across currencies: an order for people to look at, never a sum shown), then the oldest
    overdue due date; and whether more pairs follow the page.

    Ranked in one pass over the overdue open invoices only (an index-only scan of the partial
    index), hashed per pair, top-N sorted; ``limit + 1`` rows tell whether there is a next page.
    No exact count of all pairs rides along: a ``count(*) OVER ()`` doubled the query's time on
    the full benchmark set (see docs/performance.md). Then the page's few accounts get their
    full buckets."""
    open_minor = InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor
    overdue = func.sum(open_minor)
    ranked = session.execute(
        select(InvoiceRecord.account_id, InvoiceRecord.currency)
        .where(_open(), InvoiceRecord.due_on < bucket_cutoffs(today)[0])
        .group_by(InvoiceRecord.account_id, InvoiceRecord.currency)
        .having(overdue > 0)
        .order_by(overdue.desc(), func.min(InvoiceRecord.due_on), InvoiceRecord.account_id, InvoiceRecord.currency)
        .limit(limit + 1)
        .offset(offset)
    ).all()
    more = len(ranked) > limit
    wanted = [(account_id, currency) for account_id, currency in ranked[:limit]]
    if not wanted:
        return [], False
    rows = session.execute(_per_account(today, account_ids=sorted({account_id for account_id, _ in wanted}))).all()
    found = {(row.account_pk, row.currency): _account_aging(row) for row in rows}
    return [found[pair] for pair in wanted if pair in found], more


def overdue_account_count(session: Session, today: date) -> int:
    """How many (account, currency) pairs owe anything overdue (for paging)."""
    open_minor = InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor
    pairs = (
        select(InvoiceRecord.account_id)
        .where(_open(), InvoiceRecord.due_on < bucket_cutoffs(today)[0])
        .group_by(InvoiceRecord.account_id, InvoiceRecord.currency)
        .having(func.sum(open_minor) > 0)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(pairs)) or 0)


class Receivables:
    """The aging table for the CLI and the staff view: reads only, each in one read transaction."""

    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._timezone = timezone

    def today(self) -> date:
        """Today in the billing time zone: the day the buckets count from."""
        return self._clock.now().astimezone(self._timezone).date()

    def totals(self, today: date | None = None) -> list[Aging]:
        with self._db.read() as session:
            tune_for_aggregates(session)
            return totals(session, today or self.today())

    def by_account(self, today: date | None = None) -> Iterator[AccountAging]:
        with self._db.read() as session:
            tune_for_aggregates(session)
            yield from by_account(session, today or self.today())

    def most_overdue(
        self, *, limit: int, offset: int = 0, today: date | None = None
    ) -> tuple[list[AccountAging], bool]:
        """A page of the most overdue accounts and whether more follow."""
        with self._db.read() as session:
            tune_for_aggregates(session)
            return most_overdue(session, today or self.today(), limit=limit, offset=offset)
