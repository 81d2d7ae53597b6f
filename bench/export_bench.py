"""``payments export`` throughput and memory: N payments (each settling one invoice) exported as CSV
by a real ``billing-bot payments export --output FILE`` process; rows/s and its peak RSS.

    python -m bench.export_bench [--payments 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert

from billing_core.db.base import Base
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord

BATCH = 20_000
ACCOUNTS = 1_000
START = datetime(2026, 1, 1, tzinfo=UTC)


def _table(record: type[Base]) -> Table:
    """The table a declarative class maps (``__table__`` is typed as any ``FromClause``)."""
    table = record.__table__
    assert isinstance(table, Table)
    return table


def seed(db: Database, payments: int) -> None:
    """``payments`` succeeded payments over ``ACCOUNTS`` accounts, one invoice each (Core executemany)."""
    accounts = min(ACCOUNTS, payments) or 1
    with db.engine.begin() as connection:
        connection.execute(
            insert(_table(AccountRecord)),
            [
                {
                    "id": a + 1,
                    "external_id": f"acct-{a:05d}",
                    "name": f"Account {a}, Inc.",
                    "currency": "usd",
                    "created_at": START,
                    "updated_at": START,
                }
                for a in range(accounts)
            ],
        )
    for first in range(0, payments, BATCH):
        ids = range(first + 1, min(payments, first + BATCH) + 1)
        at = [START + timedelta(seconds=i * 17) for i in ids]
        with db.engine.begin() as connection:
            connection.execute(
                insert(_table(InvoiceRecord)),
                [
                    {
                        "id": i,
                        "account_id": i % accounts + 1,
                        "number": f"INV-{i:08d}",
                        "issued_on": t.date(),
                        "due_on": t.date(),
                        "amount_due_minor": 1000 + i % 9000,
                        "amount_paid_minor": 1000 + i % 9000,
                        "currency": "usd",
                        "status": "paid",
                        "description": "",
                        "paid_at": t,
                        "created_at": t,
                        "updated_at": t,
                    }
                    for i, t in zip(ids, at, strict=True)
                ],
            )
            connection.execute(
                insert(_table(PaymentRecord)),
                [
                    {
                        "id": i,
                        "account_id": i % accounts + 1,
                        "amount_minor": 1000 + i % 9000,
                        "currency": "usd",
                        "status": "succeeded",
                        "idempotency_key": f"bench-{i}",
                        "stripe_payment_intent_id": f"pi_{i:012d}",
                        "card_brand": "visa",
                        "card_last4": "4242",
                        "started_by_email": f"billing{i % accounts}@example.test",
                        "started_by_principal": f"slack:T1:U{i % accounts}",
                        "created_at": t,
                        "updated_at": t,
                        "settled_at": t + timedelta(seconds=2),
                        "source": "autopay" if i % 10 == 0 else "slack",
                    }
                    for i, t in zip(ids, at, strict=True)
                ],
            )
            connection.execute(
                insert(_table(PaymentInvoiceRecord)),
                [{"payment_id": i, "invoice_id": i, "amount_minor": 1000 + i % 9000} for i in ids],
            )


def export_once(database_url: str, output: Path) -> tuple[float, float]:
    """Run the command; its wall time (s) and peak RSS (MB, from the kernel's accounting of the child)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "OUTBOUND_", "SMTP_"))}
    env["DATABASE_URL"] = database_url
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "payments", "export", "--output", str(output)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # The child's own high-water mark (VmHWM of its address space), polled until it exits: the
    # rusage of wait4 would also count the parent's RSS, which Linux carries into a child across
    # fork and exec (inside `make bench` the parent holds ~500 MB by the time this section runs).
    peak_kb = 0
    while process.poll() is None:
        peak_kb = max(peak_kb, _high_water_kb(process.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"export failed: {process.stderr.read().decode() if process.stderr else ''}")
    return seconds, peak_kb / 1024


def _high_water_kb(pid: int) -> int:
    """VmHWM of ``pid`` in kB (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(payments: int, database_url: str | None = None) -> dict[str, Any]:
    """Seed a fresh database (temporary SQLite, or a fresh PostgreSQL database on that server), export once."""
    if database_url is not None and database_url.startswith("postgresql"):
        from devtools.postgres import fresh_database

        with fresh_database(database_url, prefix="billing_bench_export_") as url:
            return _run(payments, url)
    return _run(payments, None)


def _run(payments: int, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="billing-export-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'export.db'}"
        db = Database(url)
        db.upgrade()
        started = time.perf_counter()
        seed(db, payments)
        seeded = time.perf_counter() - started
        db.dispose()
        output = Path(tmp) / "payments.csv"
        seconds, rss = export_once(url, output)
        with output.open(newline="") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1
    if rows != payments:
        raise RuntimeError(f"exported {rows} rows for {payments} payments")
    return {
        "backend": url.split(":", 1)[0],
        "payments": payments,
        "seed_s": round(seeded, 1),
        "export_s": round(seconds, 2),
        "rows_per_s": round(payments / seconds),
        "peak_rss_mb": round(rss, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (a fresh database is made)")
    args = parser.parse_args()
    print(json.dumps(run(args.payments, args.database_url)))


if __name__ == "__main__":
    main()
