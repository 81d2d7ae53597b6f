"""One autopay pass's planning over the generator's data set, with every tenth account on autopay.

    python -m bench.autopay_plan DATABASE_URL     (prints one JSON object)

Autopay is turned on (rows in ``billing_autopay``) for 10% of the accounts, the pass is planned
at the moment the data set was made (its due dates are relative to it) ``--repeat`` times, and the
rows are removed again so the other sections see the data set as generated. ``plan_seconds`` is
the median: the one read that finds every open invoice of an autopay account whose charge is due,
and the decision for each. No Stripe call is made. Prints the numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, text

from bench.reminder_plan import data_moment
from billing_core.autopay.charging import plan_charges
from billing_core.db.base import UtcDateTime
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, AutopayRecord

SHARE = 10  # one account in SHARE


def enable_autopay(db: Database, now: datetime) -> int:
    """Autopay on for every ``SHARE``-th account, set-based; how many."""
    chosen = select(
        AccountRecord.id,
        literal(True),
        literal("bench@bench.test"),
        literal("system:bench"),
        literal(now, UtcDateTime()),
    ).where(AccountRecord.id % SHARE == 1)
    with db.transaction() as session:
        session.execute(delete(AutopayRecord))
        session.execute(
            insert(AutopayRecord).from_select(
                ["account_id", "enabled", "changed_by_email", "changed_by_principal", "changed_at"], chosen
            )
        )
        count: int = session.scalar(select(func.count()).select_from(AutopayRecord)) or 0
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE billing_autopay"))
    return count


def plan(db: Database, *, repeat: int = 3) -> dict[str, Any]:
    now = data_moment(db)
    accounts = enable_autopay(db, now)
    try:
        today = now.date()
        times, due = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            due = len(plan_charges(db, today))
            times.append(time.perf_counter() - started)
    finally:
        with db.transaction() as session:
            session.execute(delete(AutopayRecord))
    return {"autopay_accounts": accounts, "due_charges": due, "plan_seconds": round(statistics.median(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    db = Database(args.database_url)
    try:
        print(json.dumps(plan(db, repeat=args.repeat)))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
