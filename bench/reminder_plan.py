"""How long a reminder sweep takes to plan, and the memory it uses, over N invoices.

    python -m bench.reminder_plan [--invoices 20000] [--database-url postgresql+psycopg://...]

With a PostgreSQL URL a fresh database is created on that server (and dropped afterwards);
``--invoices 1000000`` there is the figure the reminder issue asks for. Without one, a temporary
SQLite file. Invoices are 10 per account with one billing contact each, two in three open, due
dates spread over 120 days around "now", and a third of the due reminders already sent, so the
plan exercises the step CASE, the anti-join against deliveries and the keyset pages.
Prints the numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord, InvoiceRecord, ReminderDeliveryRecord
from billing_core.reminder_schedule import ReminderSchedule
from billing_core.services.reminder_plan import PlanWindow, group_reminders, iter_due

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
PER_ACCOUNT = 10
CHUNK = 20_000


def seed(db: Database, invoices: int) -> None:
    """Accounts, contacts, invoices and some sent reminders, inserted in bulk."""
    accounts = max(1, invoices // PER_ACCOUNT)
    schedule = ReminderSchedule.of([-7, 0, 3, 7, 14], ZoneInfo("UTC"))
    today = NOW.date()
    with db.transaction() as session:
        for start in range(0, accounts, CHUNK):
            ids = range(start + 1, min(accounts, start + CHUNK) + 1)
            session.execute(insert(AccountRecord), [
                {"id": a, "external_id": f"acct-{a:07d}", "name": f"Account {a}", "currency": "usd",
                 "created_at": NOW, "updated_at": NOW} for a in ids])
            session.execute(insert(ContactRecord), [
                {"id": a, "account_id": a, "email": f"billing{a:07d}@example.test", "name": f"Billing {a}"}
                for a in ids])
        for start in range(0, invoices, CHUNK):
            rows: list[dict[str, Any]] = []
            sent: list[dict[str, Any]] = []
            for n in range(start, min(invoices, start + CHUNK)):
                account = n // PER_ACCOUNT % accounts + 1
                due = today + timedelta(days=(n * 7919) % 120 - 60)
                status = "paid" if n % 3 == 0 else "open"
                rows.append({"id": n + 1, "account_id": account, "number": f"INV-{n:08d}",
                             "issued_on": due - timedelta(days=30), "due_on": due, "amount_due_minor": 1000 + n % 9000,
                             "amount_paid_minor": 0, "currency": "usd", "status": status, "description": "",
                             "created_at": NOW, "updated_at": NOW})
                step = schedule.step_due(due, today)
                if status == "open" and step is not None and n % 3 == 1:
                    sent.append({"invoice_id": n + 1, "contact_id": account, "step": step, "status": "sent",
                                 "attempts": 1, "claimed_at": NOW - timedelta(hours=1), "sent_at": NOW})
            session.execute(insert(InvoiceRecord), rows)
            if sent:
                session.execute(insert(ReminderDeliveryRecord), sent)
    if db.dialect == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def plan(db: Database) -> dict[str, float]:
    """Walk the whole plan page by page, as a sweep does, without sending anything."""
    schedule = ReminderSchedule.of([-7, 0, 3, 7, 14], ZoneInfo("UTC"))
    window = PlanWindow(now=NOW, today=date(2026, 11, 25), stale_before=NOW - timedelta(minutes=10))
    tracemalloc.start()
    started = time.perf_counter()
    first_group_at: float | None = None
    reminders = groups = 0
    for group in group_reminders(iter_due(db, schedule, window)):
        if first_group_at is None:
            first_group_at = time.perf_counter() - started
        groups += 1
        reminders += len(group.reminders)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "due_reminders": reminders,
        "dms": groups,
        "plan_seconds": round(elapsed, 3),
        "first_dm_planned_after_seconds": round(first_group_at or elapsed, 3),
        "python_peak_mib": round(peak / 2**20, 1),
        "process_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run(invoices: int, database_url: str | None) -> dict[str, Any]:
    if database_url is not None and database_url.startswith("postgresql"):
        from tests.support.postgres import fresh_database

        with fresh_database(database_url, prefix="billing_bench_reminders_") as url:
            return _run(invoices, url)
    with tempfile.TemporaryDirectory() as tmp:
        return _run(invoices, database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")


def _run(invoices: int, url: str) -> dict[str, Any]:
    db = Database(url)
    try:
        db.upgrade()
        started = time.perf_counter()
        seed(db, invoices)
        seeded = time.perf_counter() - started
        result: dict[str, Any] = {"backend": db.dialect, "invoices": invoices, "seed_seconds": round(seeded, 1)}
        result.update(plan(db))
        return result
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (a fresh database is made on it)")
    args = parser.parse_args()
    print(json.dumps(run(args.invoices, args.database_url), indent=2))


if __name__ == "__main__":
    main()
