"""Receivables: the open amounts by aging bucket, per currency and account, in SQL aggregates.

An invoice's open amount is ``amount_due - amount_paid`` of an open invoice. Its bucket is how many
days past its due date ``today`` is (a calendar day in the billing time zone): ``current`` (not yet
due, or due today), ``1-30``, ``31-60``, ``61-90``, ``90+`` days overdue. The bucket is one SQL
``CASE`` over the due date (four cutoffs computed here), so the database sums; no invoice is read
one by one. Amounts are integers in minor units; currencies are never added together.

The ranking of the most overdue (:func:`most_overdue`) starts from revision 0012's summary of what
each (account, currency) owes on its open invoices (``billing_open_balance``), which the database's
triggers on ``billing_invoice`` keep exact on every write; nothing here writes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal, select, text, tuple_
from sqlalchemy.orm import Session

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, OpenBalanceRecord

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


_OWED = "CASE WHEN amount_due_minor > amount_paid_minor THEN amount_due_minor - amount_paid_minor ELSE 0 END"

#: Revision 0012's summary made again from the invoices, as the migration back-fills it (for bulk
#: loads that switch the triggers off, e.g. the benchmark's COPY; run in one transaction).
REBUILD_OPEN_BALANCES = (
    "DELETE FROM billing_open_balance",
    "INSERT INTO billing_open_balance (account_id, currency, open_count, owed_minor) "
    f"SELECT account_id, currency, count(*), sum({_OWED}) FROM billing_invoice "
    "WHERE status = 'open' GROUP BY account_id, currency",
)


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


# The ranking walks the pairs by ``owed_minor`` in batches, the first of at least ``WALK_BATCH``
# pairs, each twice the one before; after ``WALK_LIMIT`` pairs walked without a full page it ranks
# all overdue invoices in one aggregate instead (on the bench set a batch costs about 5 µs a pair
# on the server, so the walk's worst case adds some 50 ms to that aggregate's 100-150 ms).
WALK_BATCH = 256
WALK_LIMIT = 10_000

_Ranked = tuple[int, date, int, str]  # (-overdue, oldest overdue due date, account pk, currency): the page's order


def most_overdue(
    session: Session, today: date, *, limit: int, offset: int = 0, walk_limit: int = WALK_LIMIT
) -> tuple[list[AccountAging], bool]:
    """A page of the (account, currency) pairs owing the most overdue, largest first (in minor
    units, across currencies: an order for people to look at, never a sum shown), then the oldest
    overdue due date; and whether more pairs follow the page.

    Read from revision 0012's summary (``billing_open_balance``, kept by triggers): a pair's
    overdue amount is part of what it owes on its open invoices (``owed_minor``), so the pairs are
    walked largest ``owed_minor`` first, in batches that double, each batch with its exact overdue
    amounts from its own invoices (one statement: the summary's index read backwards, joined to
    the open invoices' index by account); the walk stops as soon as the next pair's
    ``owed_minor`` is below the overdue amount of the last place wanted (``offset + limit + 1``:
    the extra row tells whether a next page exists), since no pair further on can rank before
    it. When the amounts owed say little about the overdue ones (say everyone was just invoiced
    much more than they owe overdue) and ``walk_limit`` pairs pass without that, the overdue
    invoices are ranked in one aggregate instead (:func:`_ranked_by_aggregate`), as before 0012.
    Then the page's few accounts get their full buckets."""
    wanted = offset + limit + 1
    ranked = _ranked_by_walk(session, today, wanted, walk_limit)
    if ranked is None:
        ranked = _ranked_by_aggregate(session, today, wanted)
    page = [(account_pk, currency) for _, _, account_pk, currency in ranked[offset : offset + limit]]
    more = len(ranked) > offset + limit
    if not page:
        return [], False
    rows = session.execute(_per_account(today, account_ids=sorted({account_pk for account_pk, _ in page}))).all()
    found = {(row.account_pk, row.currency): _account_aging(row) for row in rows}
    return [found[pair] for pair in page if pair in found], more


def _ranked_by_walk(session: Session, today: date, wanted: int, walk_limit: int) -> list[_Ranked] | None:
    """The first ``wanted`` overdue pairs in the page's order, or None past ``walk_limit`` pairs."""
    balance = OpenBalanceRecord
    invoice = InvoiceRecord
    batch_size = max(WALK_BATCH, 2 * wanted)
    ranked: list[_Ranked] = []
    after: tuple[int, int, str] | None = None
    walked = 0
    while True:
        pairs = (
            select(balance.owed_minor, balance.account_id, balance.currency)
            .where(balance.owed_minor > 0)
            .order_by(balance.owed_minor.desc(), balance.account_id.desc(), balance.currency.desc())
            .limit(batch_size)
        )
        if after is not None:  # keyset: the index (owed_minor, account_id, currency) read backwards
            pairs = pairs.where(tuple_(balance.owed_minor, balance.account_id, balance.currency) < after)
        batch = pairs.subquery()
        overdue_invoice = and_(
            invoice.account_id == batch.c.account_id,
            invoice.currency == batch.c.currency,
            _open(),
            invoice.due_on < bucket_cutoffs(today)[0],
        )
        rows = session.execute(
            select(
                batch.c.owed_minor,
                batch.c.account_id,
                batch.c.currency,
                func.sum(invoice.amount_due_minor - invoice.amount_paid_minor),
                func.min(invoice.due_on),
            )
            .select_from(batch)
            .outerjoin(invoice, overdue_invoice)
            .group_by(batch.c.owed_minor, batch.c.account_id, batch.c.currency)
            .order_by(batch.c.owed_minor.desc(), batch.c.account_id.desc(), batch.c.currency.desc())
        ).all()
        found = [(-int(amount), oldest, pk, currency) for _, pk, currency, amount, oldest in rows if (amount or 0) > 0]
        ranked = sorted(ranked + found)[:wanted]
        if len(rows) < batch_size:
            return ranked  # every pair owing anything was looked at
        owed, account_pk, currency = rows[-1][:3]
        if len(ranked) == wanted and owed < -ranked[-1][0]:
            return ranked  # nobody further on owes as much as the last place wanted has overdue
        walked += len(rows)
        if walked >= walk_limit:
            return None
        after = (owed, account_pk, currency)
        batch_size = min(2 * batch_size, walk_limit - walked)  # never past the limit: then the aggregate


def _ranked_by_aggregate(session: Session, today: date, wanted: int) -> list[_Ranked]:
    """The first ``wanted`` overdue pairs in the page's order, from all the overdue open invoices:
    an index-only scan of the partial index, hashed per pair, top-N sorted."""
    open_minor = InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor
    overdue = func.sum(open_minor)
    oldest = func.min(InvoiceRecord.due_on)
    rows = session.execute(
        select(InvoiceRecord.account_id, InvoiceRecord.currency, overdue, oldest)
        .where(_open(), InvoiceRecord.due_on < bucket_cutoffs(today)[0])
        .group_by(InvoiceRecord.account_id, InvoiceRecord.currency)
        .having(overdue > 0)
        .order_by(overdue.desc(), oldest, InvoiceRecord.account_id, InvoiceRecord.currency)
        .limit(wanted)
    ).all()
    return [(-int(amount), due_on, account_pk, currency) for account_pk, currency, amount, due_on in rows]


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
