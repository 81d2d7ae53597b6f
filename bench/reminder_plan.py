"""How long a reminder sweep takes to plan, and the memory it uses, over N invoices.

    python -m bench.reminder_plan [--invoices 20000] [--database-url postgresql+psycopg://...] [--repeat 3]

The data set is the benchmark generator's (:mod:`bench.generate`: 10 invoices per account, two
billing contacts each, some shared between accounts), made for "today" 2026-11-25. With a
PostgreSQL URL it lives in the database ``billing_bench_reminders`` on that server, created if
missing and kept, so later runs reuse it (``--invoices 1000000`` is the figure the reminder issue
asks for); without one, a temporary SQLite file. On top of it a third of the due reminders are
marked sent, some failed (retryable) and some paused, so the plan exercises the step ``CASE`` and
both anti-joins.

Figures: ``plan_seconds`` is planning as a sweep does it (every DM decided, its rows fetched;
the median of ``--repeat`` passes), ``materialise_seconds`` the same plus building every reminder
object (what a preview of the whole plan costs), and the memory of a separate planning pass
(tracemalloc slows allocation, so it is never on while timing; on PostgreSQL the rows in flight
sit in libpq's buffers, which only ``process_max_rss_mib`` sees). Prints the numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, literal, select, text

from bench import generate as gen
from billing_core.db.base import UtcDateTime
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, ReminderDeliveryRecord, ReminderPauseRecord
from billing_core.reminders.plan import PlanWindow, due_query, iter_groups
from billing_core.reminders.schedule import DEFAULT_STEPS, ReminderSchedule

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
PER_ACCOUNT = 10
KEPT_DATABASE = "billing_bench_reminders"
SCHEDULE = ReminderSchedule.of(DEFAULT_STEPS, ZoneInfo("UTC"))


def window_at(now: datetime) -> PlanWindow:
    return PlanWindow(now=now, today=SCHEDULE.today(now), stale_before=now - timedelta(minutes=10))


def data_moment(db: Database) -> datetime:
    """When the generator made the data set (its invoices' ``created_at``): its dates are relative to it."""
    with db.read() as session:
        made: datetime | None = session.scalar(select(func.max(InvoiceRecord.created_at)))
    return made or NOW


def mark_progress(db: Database, now: datetime) -> dict[str, int]:
    """Deliveries and pauses for part of what is due at ``now``, written set-based from the plan's
    own query: a third sent, a fifteenth failed once (still due), an eleventh snoozed."""
    due = due_query(SCHEDULE, window_at(now)).subquery()
    invoice_id, contact_id, step = due.c[0], due.c[1], due.c[2]
    columns = ["invoice_id", "contact_id", "step", "status", "attempts", "claimed_at", "sent_at"]
    hour_ago = literal(now - timedelta(hours=1), UtcDateTime())
    sent = select(invoice_id, contact_id, step, literal("sent"), literal(1), hour_ago, hour_ago).where(
        invoice_id % 3 == 1
    )
    failed = select(
        invoice_id, contact_id, step, literal("failed"), literal(1), hour_ago, literal(None, UtcDateTime())
    ).where(invoice_id % 15 == 2)
    paused = select(invoice_id, contact_id, literal(now + timedelta(days=3), UtcDateTime()), literal("snooze")).where(
        invoice_id % 11 == 5, invoice_id % 3 != 1
    )
    with db.transaction() as session:
        if db.dialect == "postgresql":
            session.execute(text("SET LOCAL statement_timeout = 0"))
        deliveries = insert(ReminderDeliveryRecord).from_select(columns, sent.union_all(failed), include_defaults=False)
        session.execute(deliveries)
        session.execute(
            insert(ReminderPauseRecord).from_select(["invoice_id", "contact_id", "until", "reason"], paused)
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE billing_reminder_delivery" if db.dialect == "postgresql" else "ANALYZE"))
        if db.dialect == "postgresql":
            connection.execute(text("ANALYZE billing_reminder_pause"))
    with db.read() as session:
        return {
            "deliveries": session.scalar(select(func.count()).select_from(ReminderDeliveryRecord)) or 0,
            "pauses": session.scalar(select(func.count()).select_from(ReminderPauseRecord)) or 0,
        }


def _walk(db: Database, window: PlanWindow, *, materialise: bool = False) -> dict[str, float]:
    started = time.perf_counter()
    first: float | None = None
    reminders = groups = 0
    for group in iter_groups(db, SCHEDULE, window):
        if first is None:
            first = time.perf_counter() - started
        groups += 1
        reminders += len(group.reminders) if materialise else group.size
    elapsed = time.perf_counter() - started
    return {"due_reminders": reminders, "dms": groups, "seconds": elapsed, "first": first or elapsed}


def plan(db: Database, now: datetime | None = None, *, repeat: int = 3) -> dict[str, Any]:
    """Walk the whole plan as a sweep does, without sending anything; ``plan_seconds`` is the median
    of ``repeat`` passes (``now``: default the data set's moment)."""
    window = window_at(now or data_moment(db))
    _reset_peak_rss()
    runs = [_walk(db, window) for _ in range(max(1, repeat))]
    materialised = _walk(db, window, materialise=True)
    tracemalloc.start()
    _walk(db, window)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    seconds = [run["seconds"] for run in runs]
    return {
        "planned_at": window.now.isoformat(),
        "due_reminders": runs[0]["due_reminders"],
        "dms": runs[0]["dms"],
        "plan_seconds": round(statistics.median(seconds), 3),
        "plan_seconds_runs": [round(s, 3) for s in seconds],
        "first_dm_planned_after_seconds": round(runs[0]["first"], 3),
        "materialise_seconds": round(materialised["seconds"], 3),
        "python_peak_mib": round(peak / 2**20, 1),
        "process_max_rss_mib": _peak_rss_mib(),
    }


def run(invoices: int, database_url: str | None, *, repeat: int = 3) -> dict[str, Any]:
    if database_url is not None and database_url.startswith("postgresql"):
        return _run(invoices, _kept_database(database_url), repeat)
    with tempfile.TemporaryDirectory() as tmp:
        return _run(invoices, database_url or f"sqlite:///{Path(tmp) / 'bench.db'}", repeat)


def _kept_database(server_url: str) -> str:
    import psycopg

    from devtools.postgres import connect_kwargs, with_database

    admin = connect_kwargs(with_database(server_url, "postgres"))
    with psycopg.connect(autocommit=True, **admin) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (KEPT_DATABASE,)).fetchone()
        if exists is None:
            connection.execute(f"CREATE DATABASE {KEPT_DATABASE}")
    return with_database(server_url, KEPT_DATABASE)


def _run(invoices: int, url: str, repeat: int) -> dict[str, Any]:
    db = Database(url)
    try:
        started = time.perf_counter()
        made = gen.generate(
            db, gen.Sizes(accounts=max(1, invoices // PER_ACCOUNT), invoices=invoices), today=NOW.date()
        )
        marked = mark_progress(db, NOW)
        result: dict[str, Any] = {
            "backend": db.dialect,
            "invoices": invoices,
            "data_reused": made["reused"],
            "seed_seconds": round(time.perf_counter() - started, 1),
            **marked,
        }
        result.update(plan(db, NOW, repeat=repeat))
        return result
    finally:
        db.dispose()


def _reset_peak_rss() -> None:
    """Linux: restart the process's peak RSS count (so data generation is not in the figure)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument(
        "--database-url", default=None, help=f"PostgreSQL server URL (the data set is kept in {KEPT_DATABASE} on it)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed planning passes (the median is reported)")
    args = parser.parse_args()
    print(json.dumps(run(args.invoices, args.database_url, repeat=args.repeat), indent=2))


if __name__ == "__main__":
    main()
