"""The receivables view's queries over the generator's data set (``make bench``: PostgreSQL, full set).

    python -m bench.receivables_bench DATABASE_URL             (prints one JSON object)
    python -m bench.receivables_bench DATABASE_URL --explain   (PostgreSQL: each query's plan)

Counted at the moment the data set was made (its due dates are relative to it), each query
``--repeat`` times, the median in milliseconds: the totals by aging bucket per currency, the first
page of the most overdue accounts (``PAGE`` + 1 rows: the last tells whether a next page exists), the staff
view's whole read (``StaffDesk.overview``: those, each account's last reminder, contact activity,
requests, autopay, promise and hold, and the month's figures), and the whole aging table as
``billing-bot receivables`` streams it. The view's read is also timed statement by statement
(``cursor.execute``: on PostgreSQL that includes receiving the rows; SQLite computes rows as they
are fetched, so its per-statement times understate) and the slowest is named: the issue's goal
(200 ms) is checked against it and against the whole read. Prints the numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time as clock
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bench.reminder_plan import data_moment
from billing_core.accounts import receivables
from billing_core.clock import FixedClock, SystemClock
from billing_core.db.database import Database
from billing_core.reminders.promises import Promises
from billing_core.staff.desk import StaffDesk

PAGE = 20


def _median_ms(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = clock.perf_counter()
        result = run()
        times.append(clock.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1), result


def measure(db: Database, *, repeat: int = 5) -> dict[str, Any]:
    today = data_moment(db).date()

    def totals() -> int:
        with db.read() as session:
            receivables.tune_for_aggregates(session)
            return len(receivables.totals(session, today))

    def page() -> int:
        with db.read() as session:
            receivables.tune_for_aggregates(session)
            return len(receivables.most_overdue(session, today, limit=PAGE)[0])

    def table() -> int:
        with db.read() as session:
            receivables.tune_for_aggregates(session)
            return sum(1 for _ in receivables.by_account(session, today))

    desk = _desk(db, today)

    def whole_view() -> int:
        statements.clear_position()
        return len(desk.overview(page=0, page_size=PAGE).accounts)

    totals_ms, currencies = _median_ms(totals, repeat)
    page_ms, _ = _median_ms(page, repeat)
    statements = _StatementTimes(db)
    with statements:
        view_ms, _ = _median_ms(whole_view, repeat)
    slowest, slowest_ms = max(
        ((label, round(statistics.median(times) * 1000, 1)) for label, times in statements.times.items()),
        key=lambda item: item[1],
    )
    table_ms, rows = _median_ms(table, max(1, repeat // 2))
    with db.read() as session:  # for the report's label only (the view no longer counts them)
        receivables.tune_for_aggregates(session)
        overdue_accounts = receivables.overdue_account_count(session, today)
    return {
        "totals_ms": totals_ms,
        "most_overdue_page_ms": page_ms,
        "view_ms": view_ms,
        "view_queries": len(statements.times),
        "slowest_query_ms": slowest_ms,
        "slowest_query": slowest,
        "table_ms": table_ms,
        "currencies": currencies,
        "overdue_accounts": overdue_accounts,
        "table_rows": rows,
    }


def _label(statement: str) -> str:
    """A short name for a statement: its first table and what it groups by."""
    table = re.search(r"\bFROM\s+(\w+)", statement)
    grouped = re.search(r"\bGROUP BY\s+(.+?)(?:\s+HAVING|\s+ORDER|\s+LIMIT|$)", statement, re.S)
    label = table.group(1) if table else statement.split()[0]
    by = " ".join(grouped.group(1).replace(f"{label}.", "").split())[:60] if grouped else ""
    return label + (f" by {by}" if by else "")


class _StatementTimes:
    """Seconds per execution of each statement of a read, by its position in the read and its
    :func:`_label` (call ``clear_position`` before each read), while inside ``with``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.times: dict[str, list[float]] = defaultdict(list)
        self._position = 0
        self._started = 0.0

    def clear_position(self) -> None:
        self._position = 0

    def _before(self, *args: Any) -> None:
        self._started = clock.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self._position += 1
            self.times[f"{self._position}. {_label(statement)}"].append(clock.perf_counter() - self._started)

    def __enter__(self) -> _StatementTimes:
        event.listen(self._db.engine, "before_cursor_execute", self._before)
        event.listen(self._db.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self._db.engine, "before_cursor_execute", self._before)
        event.remove(self._db.engine, "after_cursor_execute", self._after)


def _desk(db: Database, today: date) -> StaffDesk:
    return StaffDesk(
        db=db,
        clock=FixedClock(datetime.combine(today, time(12), tzinfo=UTC)),
        timezone=ZoneInfo("UTC"),
        promises=Promises(db=db, clock=SystemClock(), timezone=ZoneInfo("UTC")),
    )


def explain(db: Database) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of every SELECT the staff view's read runs (PostgreSQL)."""
    today = data_moment(db).date()
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        _desk(db, today).overview(page=0, page_size=PAGE)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    out = []
    with db.read() as session:
        receivables.tune_for_aggregates(session)
        cursor = session.connection().connection.cursor()
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            out += ["=" * 100, statement, "-" * 100, *(row[0] for row in cursor.fetchall())]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print each query's EXPLAIN ANALYZE instead")
    args = parser.parse_args()
    db = Database(args.database_url)
    try:
        print(explain(db) if args.explain else json.dumps(measure(db, repeat=args.repeat)))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
