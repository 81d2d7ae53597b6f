"""The benchmark data set, built fast with bulk inserts on the real (migrated) schema.

    python -m bench.generate [--quick] [--database-url URL] [--force]

Full size: 100,000 accounts, 200,000 contacts, 1,000,000 invoices (PostgreSQL: COPY, about a
minute on 2 cores). ``--quick``: 1,000 / 2,000 / 10,000 (SQLite or PostgreSQL, a few seconds).

The shape is deterministic:

* account ``a`` (``acct-000042``) has two contacts: ``billing000042@bench.test`` (its own) and
  ``finance000021@bench.test`` (shared with the neighbouring account, so some people see two
  accounts), a Stripe customer id and one cached card (so no Stripe call is needed to list cards);
* the bench accounts have a payment history (see :func:`payment_rows`);
* the first ``BENCH_ACCOUNTS`` accounts carry 50 invoices each (20 open), the next
  ``BENCH_ACCOUNTS`` one open invoice each; the others 1-19 (about 30% open), summing exactly to
  the invoice count;
* invoices are monthly; open ones are due from many months ago to a few weeks ahead of ``today``,
  so the reminder schedule has work at every step;
* revision 0012's summary of open balances (``billing_open_balance``) is rebuilt from the invoices
  after the COPY (its triggers are off during it); a data set kept from an earlier run is upgraded
  in place by :func:`migrate`, whose migration back-fills it.

The Slack user ``UB000042`` has the e-mail ``billing000042@bench.test`` (see :func:`user_email`).
"""

from __future__ import annotations

import argparse
import io
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, inspect, select, text

from billing_core.accounts.receivables import REBUILD_OPEN_BALANCES
from billing_core.db.base import Base
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    ContactRecord,
    InvoiceRecord,
    PaymentInvoiceRecord,
    PaymentMethodRecord,
    PaymentRecord,
)

BENCH_ACCOUNTS = 64  # heavy (50 invoices) and, after them, as many light (1 invoice) accounts
HEAVY_INVOICES = 50
HEAVY_OPEN = 20
EMAIL_DOMAIN = "bench.test"


@dataclass(frozen=True)
class Sizes:
    accounts: int
    invoices: int

    @property
    def contacts(self) -> int:
        return 2 * self.accounts


FULL = Sizes(accounts=100_000, invoices=1_000_000)
QUICK = Sizes(accounts=1_000, invoices=10_000)

# Rows created by using the bot (not by the generator): cleared on every reuse of a data set.
MUTABLE_TABLES = (
    "billing_reminder_delivery",
    "billing_reminder_pause",
    "billing_escalation",
    "billing_card_setup",
    "billing_audit_event",
    "billing_principal",
    "billing_stripe_event",
    "billing_slack_limit",
)


def account_external_id(a: int) -> str:
    return f"acct-{a:06d}"


def user_id(a: int) -> str:
    """The Slack user who is the own billing contact of account ``a``."""
    return f"UB{a:06d}"


def user_email(slack_user_id: str) -> str | None:
    """The e-mail the benchmark's Slack stand-in shows for a user id (``None``: not a bench user)."""
    if not slack_user_id.startswith("UB") or not slack_user_id[2:].isdigit():
        return None
    return f"billing{int(slack_user_id[2:]):06d}@{EMAIL_DOMAIN}"


def heavy_accounts() -> range:
    return range(BENCH_ACCOUNTS)


def light_accounts() -> range:
    return range(BENCH_ACCOUNTS, 2 * BENCH_ACCOUNTS)


def invoice_counts(sizes: Sizes) -> list[int]:
    """Invoices per account, summing exactly to ``sizes.invoices``."""
    if sizes.accounts < 4 * BENCH_ACCOUNTS:
        raise ValueError(f"need at least {4 * BENCH_ACCOUNTS} accounts")
    counts = [1 + (a * 37) % 19 for a in range(sizes.accounts)]
    for a in heavy_accounts():
        counts[a] = HEAVY_INVOICES
    for a in light_accounts():
        counts[a] = 1
    rest = range(2 * BENCH_ACCOUNTS, sizes.accounts)
    diff = sizes.invoices - sum(counts)
    step = 1 if diff > 0 else -1
    a = 0
    while diff:
        index = rest[a % len(rest)]
        if 1 <= counts[index] + step <= 60:
            counts[index] += step
            diff -= step
        a += 1
        if a > 200 * len(rest):
            raise ValueError(f"cannot fit {sizes.invoices} invoices into {sizes.accounts} accounts")
    return counts


def open_count(a: int, n: int) -> int:
    if a in heavy_accounts():
        return HEAVY_OPEN
    return max(1, math.ceil(n * 0.3))


# -- rows, in table column order ------------------------------------------------------------

ACCOUNT_COLUMNS = ("id", "external_id", "name", "currency", "stripe_customer_id", "created_at", "updated_at")
CONTACT_COLUMNS = ("id", "account_id", "email", "name")
INVOICE_COLUMNS = (
    "id",
    "account_id",
    "number",
    "issued_on",
    "due_on",
    "amount_due_minor",
    "amount_paid_minor",
    "currency",
    "status",
    "description",
    "payment_lock_id",
    "paid_at",
    "created_at",
    "updated_at",
)
CARD_COLUMNS = (
    "id",
    "account_id",
    "stripe_payment_method_id",
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "is_default",
    "refreshed_at",
)


def account_rows(sizes: Sizes, now: datetime) -> Iterator[tuple[Any, ...]]:
    for a in range(sizes.accounts):
        yield (a + 1, account_external_id(a), f"Account {a:06d}", "usd", f"cus_bench{a:06d}", now, now)


def contact_rows(sizes: Sizes) -> Iterator[tuple[Any, ...]]:
    for a in range(sizes.accounts):
        yield (2 * a + 1, a + 1, f"billing{a:06d}@{EMAIL_DOMAIN}", f"Billing {a:06d}")
        yield (2 * a + 2, a + 1, f"finance{a // 2:06d}@{EMAIL_DOMAIN}", f"Finance {a // 2:06d}")


def invoice_rows(sizes: Sizes, today: date, now: datetime) -> Iterator[tuple[Any, ...]]:
    next_id = 1
    for a, n in enumerate(invoice_counts(sizes)):
        opened = open_count(a, n)
        jitter = (a * 13) % 28
        for i in range(n):
            issued = today - timedelta(days=30 * (n - 1 - i) + jitter)
            due = issued + timedelta(days=30)
            amount = 1_000 + (a * 7 + i * 13) % 99_000
            if i >= n - opened:
                status, paid, paid_at = "open", 0, None
            elif (a + i) % 97 == 0:
                status, paid, paid_at = "void", 0, None
            else:
                status, paid = "paid", amount
                paid_at = datetime(due.year, due.month, due.day, 12, tzinfo=UTC)
            yield (
                next_id,
                a + 1,
                f"INV-{a:06d}-{i:03d}",
                issued,
                due,
                amount,
                paid,
                "usd",
                status,
                "usage",
                None,
                paid_at,
                now,
                now,
            )
            next_id += 1


PAYMENT_COLUMNS = (
    "id",
    "account_id",
    "amount_minor",
    "currency",
    "status",
    "idempotency_key",
    "stripe_payment_intent_id",
    "card_brand",
    "card_last4",
    "started_by_email",
    "started_by_principal",
    "failure_reason",
    "created_at",
    "updated_at",
    "settled_at",
)
LINK_COLUMNS = ("payment_id", "invoice_id", "amount_minor")


def payment_rows(sizes: Sizes, today: date) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Payment history for the bench accounts only: one succeeded payment per paid invoice of a
    heavy account, one declined attempt on each light account's open invoice."""
    counts = invoice_counts(sizes)
    payments: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    first_invoice_id = 1
    for a in range(2 * BENCH_ACCOUNTS):
        n = counts[a]
        opened = open_count(a, n)
        email = f"billing{a:06d}@{EMAIL_DOMAIN}"
        for i in range(n):
            paid = i < n - opened
            if paid == (a in light_accounts()):
                continue
            amount = 1_000 + (a * 7 + i * 13) % 99_000
            at = datetime.combine(today - timedelta(days=30 * (n - 1 - i)), datetime.min.time(), UTC)
            pid = len(payments) + 1
            payments.append(
                (
                    pid,
                    a + 1,
                    amount,
                    "usd",
                    "succeeded" if paid else "failed",
                    f"bench-{pid}",
                    f"pi_bench{pid}",
                    "visa",
                    "4242",
                    email,
                    f"slack:T111:{user_id(a)}",
                    None if paid else "card_declined",
                    at,
                    at,
                    at if paid else None,
                )
            )
            links.append((pid, first_invoice_id + i, amount))
        first_invoice_id += n
    return payments, links


def card_rows(sizes: Sizes, now: datetime) -> Iterator[tuple[Any, ...]]:
    for a in range(sizes.accounts):
        yield (a + 1, a + 1, f"pm_bench{a:06d}", "visa", f"{4242 + a % 5000:04d}"[-4:], 12, 2030, True, now)


# -- writers ----------------------------------------------------------------------------------


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy_postgres(db: Database, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY ``rows`` into ``table`` in one transaction. Into ``billing_invoice`` with its triggers
    off (revision 0012's summary: one trigger call per open invoice, about 350,000 on the full set),
    the summary rebuilt from the loaded invoices in one statement before the triggers come back on,
    all in the same transaction: a load that fails leaves the triggers on and the summary as it was."""
    summarised = table == InvoiceRecord.__tablename__
    raw = db.engine.raw_connection()
    try:
        connection: Any = raw.driver_connection
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")  # the app's 10 s limit is not for bulk loads
            if summarised:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for count, row in enumerate(rows, 1):
                    buffer.write("\t".join(_copy_text(v) for v in row))
                    buffer.write("\n")
                    if count % 50_000 == 0:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
            if "id" in columns:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            if summarised:
                for statement in REBUILD_OPEN_BALANCES:
                    cursor.execute(statement)
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        connection.commit()
    finally:
        raw.close()


def _insert_core(db: Database, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    chunk: list[dict[str, Any]] = []
    with db.engine.begin() as connection:
        for row in rows:
            chunk.append(dict(zip(columns, row, strict=True)))
            if len(chunk) == 10_000:
                connection.execute(insert(table), chunk)
                chunk = []
        if chunk:
            connection.execute(insert(table), chunk)


def _write(db: Database, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    if db.dialect == "postgresql":
        _copy_postgres(db, table.name, columns, rows)
    else:
        _insert_core(db, table, columns, rows)


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables]


def clear(db: Database, names: Iterable[str] | None = None) -> None:
    """Delete the rows of ``names`` (default: every table of the schema)."""
    tables = [t for t in _tables() if names is None or t.name in set(names)]
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


def holds(db: Database, sizes: Sizes) -> bool:
    """True when the database already holds a data set of these sizes."""
    with db.read() as session:
        accounts = session.scalar(select(func.count()).select_from(AccountRecord))
        contacts = session.scalar(select(func.count()).select_from(ContactRecord))
        invoices = session.scalar(select(func.count()).select_from(InvoiceRecord))
        payments = session.scalar(select(func.count()).select_from(PaymentRecord))
    expected = (sizes.accounts, sizes.contacts, sizes.invoices, len(payment_rows(sizes, date.today())[0]))
    return (accounts, contacts, invoices, payments) == expected


def migrate(db: Database) -> None:
    """Bring the schema to head. Migration 0001 is still edited in place (unreleased project), so a
    database made before a change can lack tables: then it is dropped and made again."""
    db.upgrade()
    missing = set(Base.metadata.tables) - set(inspect(db.engine).get_table_names())
    if missing:
        with db.engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.upgrade()


def generate(db: Database, sizes: Sizes, *, today: date | None = None, force: bool = False) -> dict[str, Any]:
    """Migrate ``db`` and fill it with the data set (kept when already there, unless ``force``).

    Rows the bot itself creates (reminder deliveries, payments, audit events ...) are always
    cleared, so every benchmark run starts from the same state.
    """
    migrate(db)
    started = time.perf_counter()
    if not force and holds(db, sizes):
        clear(db, MUTABLE_TABLES)
        return {"reused": True, "seconds": round(time.perf_counter() - started, 2), **_sizes(sizes)}
    clear(db)
    today = today or datetime.now(UTC).date()
    now = datetime.now(UTC)
    tables = Base.metadata.tables
    _write(db, tables[AccountRecord.__tablename__], ACCOUNT_COLUMNS, account_rows(sizes, now))
    _write(db, tables[ContactRecord.__tablename__], CONTACT_COLUMNS, contact_rows(sizes))
    _write(db, tables[InvoiceRecord.__tablename__], INVOICE_COLUMNS, invoice_rows(sizes, today, now))
    _write(db, tables[PaymentMethodRecord.__tablename__], CARD_COLUMNS, card_rows(sizes, now))
    payments, links = payment_rows(sizes, today)
    _write(db, tables[PaymentRecord.__tablename__], PAYMENT_COLUMNS, payments)
    _write(db, tables[PaymentInvoiceRecord.__tablename__], LINK_COLUMNS, links)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SET statement_timeout = 0"))
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return {"reused": False, "seconds": round(time.perf_counter() - started, 2), **_sizes(sizes)}


def _sizes(sizes: Sizes) -> dict[str, int]:
    return {"accounts": sizes.accounts, "contacts": sizes.contacts, "invoices": sizes.invoices}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 accounts and 10,000 invoices")
    parser.add_argument("--database-url", default="sqlite:///bench/bench.db")
    parser.add_argument("--force", action="store_true", help="rebuild even when the data set is there")
    args = parser.parse_args()
    db = Database(args.database_url)
    try:
        print(generate(db, QUICK if args.quick else FULL, force=args.force))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
