"""``billing-bot payments export``: what the vendor's finance team loads into their books."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord
from billing_core.payments.export import COLUMNS, ExportWindow, PaymentExport, iso_utc
from bot.cli.actions.export import atomic_output, write_csv, write_json
from tests.support import cli
from tests.support.payment_rows import START, add_account, add_payment


def run_cli(*args: str, database_url: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    """The command in this process (``tests.support.cli``)."""
    return cli.run_cli(*args, env=_env(database_url, **env_extra))


def run_process(*args: str, database_url: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot <args>`` as a separate process, its stdout a pipe."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=_env(database_url, **env_extra),
        timeout=120,
        check=False,
    )


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return cli.cli_env(("SLACK_", "STRIPE_", "BILLING_"), DATABASE_URL=database_url, **extra)


@pytest.fixture
def seeded(db: Database) -> Database:
    acme = add_account(db, "acme", 'Acme, "the" Corp\nEMEA')
    globex = add_account(db, "globex", "Globex GmbH ü", "eur")
    add_payment(db, acme, created_at=START, invoices=("INV-2", "INV-1"), amount_minor=175050, intent="pi_1")
    add_payment(db, acme, created_at=START + timedelta(hours=1), status="failed", amount_minor=300)
    add_payment(
        db,
        globex,
        created_at=START + timedelta(days=1),
        invoices=("G-1",),
        currency="eur",
        status="pending",
        email="bob@globex.test",
        source="autopay",
    )
    add_payment(db, acme, created_at=START + timedelta(days=2), status="requires_action", invoices=("INV-3",))
    return db


def database_rows(db: Database) -> list[dict[str, object]]:
    """The same rows, read independently through the ORM."""
    out: list[dict[str, object]] = []
    with db.read() as session:
        for payment in session.scalars(select(PaymentRecord).order_by(PaymentRecord.id)):
            account = session.get(AccountRecord, payment.account_id)
            assert account is not None
            numbers = sorted(
                session.scalars(
                    select(InvoiceRecord.number)
                    .join(PaymentInvoiceRecord)
                    .where(PaymentInvoiceRecord.payment_id == payment.id)
                )
            )
            out.append(
                {
                    "payment_id": payment.id,
                    "created_at": iso_utc(payment.created_at),
                    "settled_at": iso_utc(payment.settled_at),
                    "status": payment.status,
                    "account_id": account.external_id,
                    "account_name": account.name,
                    "invoices": " ".join(numbers),
                    "amount": payment.amount_minor,
                    "currency": payment.currency,
                    "stripe_payment_intent_id": payment.stripe_payment_intent_id or "",
                    "paid_by": payment.started_by_email,
                    "source": payment.source,
                }
            )
    return out


def test_the_export_matches_the_database_row_for_row(seeded: Database) -> None:
    exported = [row.as_dict() for row in PaymentExport(seeded).rows()]
    assert exported == database_rows(seeded)
    assert [row["status"] for row in exported] == ["succeeded", "failed", "pending", "requires_action"]
    assert exported[0]["invoices"] == "INV-1 INV-2" and exported[0]["amount"] == 175050
    assert exported[2]["source"] == "autopay" and exported[0]["source"] == "slack"
    assert exported[2]["settled_at"] == "" and exported[0]["created_at"] == "2026-11-01T12:00:00Z"


def test_the_csv_parses_with_pythons_csv_module_and_round_trips(seeded: Database) -> None:
    out = io.StringIO()
    count = write_csv(PaymentExport(seeded).rows(), out)
    assert count == 4
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert out.getvalue().splitlines()[0] == ",".join(COLUMNS)
    expected = [{key: str(value) for key, value in row.items()} for row in database_rows(seeded)]
    assert parsed == expected
    assert parsed[0]["account_name"] == 'Acme, "the" Corp\nEMEA'


def test_the_json_export_is_a_list_of_objects_with_the_contracts_keys_in_order(seeded: Database) -> None:
    out = io.StringIO()
    write_json(PaymentExport(seeded).rows(), out)
    loaded = json.loads(out.getvalue())
    assert loaded == database_rows(seeded)
    assert list(loaded[0]) == list(COLUMNS)
    empty = io.StringIO()
    write_json(iter(()), empty)
    assert json.loads(empty.getvalue()) == []


def test_since_and_until_are_dates_in_the_billing_time_zone_and_until_is_inclusive(db: Database) -> None:
    from zoneinfo import ZoneInfo

    acme = add_account(db)
    tokyo = ZoneInfo("Asia/Tokyo")
    # 2026-11-02 23:30 in Tokyo is 14:30 UTC on the 2nd; 2026-11-03 00:30 Tokyo is 15:30 UTC on the 2nd.
    inside = add_payment(db, acme, created_at=datetime(2026, 11, 2, 14, 30, tzinfo=UTC), amount_minor=1)
    after = add_payment(db, acme, created_at=datetime(2026, 11, 2, 15, 30, tzinfo=UTC), amount_minor=2)
    before = add_payment(db, acme, created_at=datetime(2026, 11, 1, 14, 59, tzinfo=UTC), amount_minor=3)
    window = ExportWindow.of_dates(date(2026, 11, 2), date(2026, 11, 2), tokyo)
    ids = [row.payment_id for row in PaymentExport(db).rows(window)]
    assert ids == [inside]
    assert PaymentExport(db).count(window) == 1
    assert {after, before}.isdisjoint(ids)


def test_an_output_file_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "payments.csv"
    target.write_text("old export\n")
    with pytest.raises(RuntimeError), atomic_output(target) as handle:
        handle.write("half a file")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old export\n"
    with atomic_output(target) as handle:
        handle.write("new\n")
        assert target.read_text() == "old export\n"
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["payments.csv"]


@pytest.mark.process
def test_the_command_writes_csv_to_stdout_with_nothing_extra_on_a_pipe(seeded: Database, database_url: str) -> None:
    result = run_process("payments", "export", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(row["payment_id"]) for row in rows] == [int(str(r["payment_id"])) for r in database_rows(seeded)]


def test_the_command_writes_json_to_a_file_filtered_by_dates(
    seeded: Database, database_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "out.json"
    result = run_cli(
        "payments",
        "export",
        "--format",
        "json",
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-02",
        "--output",
        str(target),
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert [row["account_id"] for row in json.loads(target.read_text())] == ["globex"]


def test_a_bad_date_or_format_is_a_one_line_error(database_url: str) -> None:
    bad_date = run_cli("payments", "export", "--since", "yesterday", database_url=database_url)
    assert bad_date.returncode != 0 and "--since must be a date" in bad_date.stderr
    bad_format = run_cli("payments", "export", "--format", "xml", database_url=database_url)
    assert bad_format.returncode != 0 and "--format must be csv or json" in bad_format.stderr


def test_with_a_progress_bar_the_file_holds_the_same_rows(
    seeded: Database, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.actions.export import export_payments
    from bot.settings import Settings

    settings = Settings(_env_file=None, DATABASE_URL=database_url)
    target = tmp_path / "with-bar.csv"
    assert export_payments(settings, since=None, until=None, fmt="csv", output=target, progress=True) == 4
    rows = list(csv.DictReader(target.open(newline="")))
    assert [int(r["payment_id"]) for r in rows] == [int(str(r["payment_id"])) for r in database_rows(seeded)]
    assert capsys.readouterr().out == ""  # the bar never mixes with the rows
