"""``billing-bot receivables``: the aging table an operator scripts against."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path
from typing import Any

from billing_core.db.database import Database
from tests.support import cli
from tests.support.sample_accounts import account, invoice

AS_OF = "2026-12-07"
DATA: dict[str, Any] = {
    "accounts": [
        account(
            "acme",
            "Acme Corp",
            "usd",
            [("ann@acme.test", "Ann Lee")],
            [
                invoice("A-TODAY", "2026-11-01", "2026-12-07", 1000),
                invoice("A-LATER", "2026-11-01", "2026-12-20", 2000),
                invoice("A-1", "2026-11-01", "2026-12-06", 100),
                invoice("A-30", "2026-10-01", "2026-11-07", 200),
                invoice("A-31", "2026-10-01", "2026-11-06", 400),
                invoice("A-61", "2026-09-01", "2026-10-07", 800),
                invoice("A-90", "2026-08-01", "2026-09-08", 3200),
                invoice("A-91", "2026-08-01", "2026-09-07", 1600),
                invoice("A-PAID", "2026-08-01", "2026-09-07", 99999, status="paid"),
                invoice("A-VOID", "2026-08-01", "2026-09-07", 77777, status="void"),
            ],
        ),
        account(
            "globex",
            "=Globex GmbH",
            "eur",
            [("bob@globex.test", "Bob")],
            [
                invoice("G-1", "2026-11-01", "2026-11-30", 5000, "eur"),
                invoice("G-2", "2026-11-01", "2027-01-15", 12, "eur"),
            ],
        ),
        account(
            "quiet",
            "Quiet Ltd",
            "usd",
            [("q@quiet.test", "Q")],
            [invoice("Q-1", "2026-01-01", "2026-02-01", 5, status="paid")],
        ),
    ]
}


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = cli.cli_env(("SLACK_", "STRIPE_", "BILLING_"), DATABASE_URL=database_url, BILLING_TIMEZONE="Europe/Berlin")
    return cli.run_cli(*args, env=env)


def imported(db: Database, tmp_path: Path) -> str:
    file = tmp_path / "accounts.json"
    file.write_text(json.dumps(DATA))
    result = run_cli("import", str(file), database_url=db.url)
    assert result.returncode == 0, result.stderr
    return db.url


EXPECTED = [
    {
        "currency": "eur",
        "account_id": "globex",
        "account_name": "=Globex GmbH",
        "current": 12,
        "1-30": 5000,
        "31-60": 0,
        "61-90": 0,
        "90+": 0,
        "total": 5012,
        "oldest_due_on": "2026-11-30",
    },
    {
        "currency": "usd",
        "account_id": "acme",
        "account_name": "Acme Corp",
        "current": 3000,
        "1-30": 300,
        "31-60": 400,
        "61-90": 4000,
        "90+": 1600,
        "total": 9300,
        "oldest_due_on": "2026-09-07",
    },
]


def test_json_puts_each_open_invoice_in_its_aging_bucket_per_currency_and_account(db: Database, tmp_path: Path) -> None:
    url = imported(db, tmp_path)

    result = run_cli("receivables", "--format", "json", "--as-of", AS_OF, database_url=url)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == EXPECTED


def test_csv_is_the_default_with_a_header_integer_minor_units_and_formula_safe_names(
    db: Database, tmp_path: Path
) -> None:
    url = imported(db, tmp_path)

    result = run_cli("receivables", "--as-of", AS_OF, database_url=url)

    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == list(EXPECTED[0])
    assert rows[1] == ["eur", "globex", "'=Globex GmbH", "12", "5000", "0", "0", "0", "5012", "2026-11-30"]
    assert rows[2] == ["usd", "acme", "Acme Corp", "3000", "300", "400", "4000", "1600", "9300", "2026-09-07"]
    assert len(rows) == 3  # a paid-up account has no row


def test_an_unknown_format_is_refused_in_one_line(db: Database) -> None:
    result = run_cli("receivables", "--format", "xml", database_url=db.url)

    assert result.returncode != 0
    assert result.stderr.strip() == "--format must be csv or json, got 'xml'"
    assert result.stdout == ""


def test_an_empty_ledger_prints_only_the_header_or_an_empty_list(db: Database) -> None:
    assert run_cli("receivables", database_url=db.url).stdout.splitlines() == [",".join(EXPECTED[0])]
    assert json.loads(run_cli("receivables", "--format", "json", database_url=db.url).stdout) == []
