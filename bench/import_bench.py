"""Import throughput: invoices per second for a generated file, on SQLite (and PostgreSQL if given).

python -m bench.import_bench [--invoices 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from billing_core.clock import SystemClock
from billing_core.db.database import Database
from billing_core.sources.importer import Importer


def generate(invoices: int, per_account: int = 10) -> dict[str, Any]:
    """An import file with ``invoices`` invoices spread over accounts of ``per_account`` each."""
    accounts = []
    start = date(2026, 1, 1)
    for a in range(max(1, invoices // per_account)):
        rows = []
        for i in range(per_account):
            issued = start + timedelta(days=(a + i) % 300)
            rows.append(
                {
                    "number": f"INV-{a:06d}-{i:03d}",
                    "issued_on": issued.isoformat(),
                    "due_on": (issued + timedelta(days=30)).isoformat(),
                    "amount_due": 1000 + (a * 7 + i) % 99000,
                    "currency": "usd",
                    "status": "open" if i % 3 else "paid",
                    "description": "usage",
                }
            )
        accounts.append(
            {
                "id": f"acct-{a:06d}",
                "name": f"Account {a}",
                "currency": "usd",
                "contacts": [{"email": f"billing{a}@example.test", "name": f"Billing {a}"}],
                "invoices": rows,
            }
        )
    return {"accounts": accounts}


def run(invoices: int, database_url: str | None) -> dict[str, float | str]:
    """Import ``invoices`` twice into an empty database: a temporary SQLite file, or (given a
    PostgreSQL URL) a fresh database created on that server and dropped afterwards."""
    if database_url is not None and database_url.startswith("postgresql"):
        from devtools.postgres import fresh_database

        with fresh_database(database_url, prefix="billing_bench_import_") as url:
            return _run(invoices, url)
    return _run(invoices, database_url)


def _run(invoices: int, database_url: str | None) -> dict[str, float | str]:
    data = generate(invoices)
    count = sum(len(a["invoices"]) for a in data["accounts"])
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(url)
        db.upgrade()
        importer = Importer(db=db, clock=SystemClock())
        raw = json.loads(json.dumps(data))  # what the CLI hands over after reading the file
        started = time.perf_counter()
        importer.run(raw)
        first = time.perf_counter() - started
        started = time.perf_counter()
        importer.run(raw)  # the same file again: everything unchanged
        again = time.perf_counter() - started
        db.dispose()
    backend = url.split(":", 1)[0]
    return {
        "backend": backend,
        "invoices": count,
        "first_import_s": round(first, 3),
        "first_import_invoices_per_s": round(count / first),
        "reimport_s": round(again, 3),
        "reimport_invoices_per_s": round(count / again),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server URL (a fresh database is made on it); default a temp SQLite file",
    )
    args = parser.parse_args()
    result = run(args.invoices, args.database_url)
    for key, value in result.items():
        print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
