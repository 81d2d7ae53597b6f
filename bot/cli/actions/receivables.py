"""``billing-bot receivables``: the aging table of ``billing_core.accounts.receivables`` as CSV or JSON.

One row per account and currency with an open amount, by currency then account id; amounts are
integers in minor units as in ``payments export``, text cells spreadsheet-safe in CSV.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from typing import IO, Literal

from billing_core.accounts.receivables import BUCKETS, AccountAging, Receivables
from billing_core.clock import SystemClock
from billing_core.db.database import Database
from bot.cli.actions.export import spreadsheet_safe
from bot.settings import Settings

Format = Literal["csv", "json"]
COLUMNS: tuple[str, ...] = ("currency", "account_id", "account_name", *BUCKETS, "total", "oldest_due_on")


def _row(line: AccountAging) -> list[object]:
    aging = line.aging
    return [
        aging.currency,
        line.account_id,
        line.account_name,
        *aging.amounts,
        aging.total,
        line.oldest_due_on.isoformat(),
    ]


def write_receivables(settings: Settings, *, fmt: Format, out: IO[str], as_of: date | None = None) -> int:
    """Write the table to ``out``; returns the number of rows."""
    db = Database(settings.database_url)
    try:
        receivables = Receivables(db, SystemClock(), settings.timezone)
        today = as_of or receivables.today()
        count = 0
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(COLUMNS)
            for line in receivables.by_account(today):
                writer.writerow([spreadsheet_safe(cell) for cell in _row(line)])
                count += 1
            return count
        out.write("[")
        for line in receivables.by_account(today):
            out.write(",\n" if count else "\n")
            out.write(json.dumps(dict(zip(COLUMNS, _row(line), strict=True)), ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return count
    finally:
        db.dispose()
