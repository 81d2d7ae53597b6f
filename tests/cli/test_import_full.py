"""``billing-bot import --full FILE`` as an operator runs it (issue 27, item 4): the file is the
complete list of open invoices of the accounts it names; an open invoice it no longer lists is
closed as its ``closed_as`` says, and the summary says what changed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoicePaidElsewhereRecord, InvoiceRecord
from tests.cli.test_import_command import run_cli, write
from tests.integration.core.sample_data import sample


def statuses(database_url: str) -> dict[str, tuple[str, str | None]]:
    """``account/number`` -> (status, closed_as)."""
    db = Database(database_url)
    try:
        with db.read() as session:
            rows = session.execute(
                select(
                    AccountRecord.external_id, InvoiceRecord.number, InvoiceRecord.status, InvoiceRecord.closed_as
                ).join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
            )
            return {f"{account}/{number}": (status, closed_as) for account, number, status, closed_as in rows}
    finally:
        db.dispose()


def nightly_ledger(closed_as: str) -> dict[str, object]:
    """Acme's nightly export no longer lists INV-1001 (paid by wire); Globex and Initech are absent."""
    data = sample()
    data["accounts"] = data["accounts"][:1]
    data["accounts"][0]["invoices"] = [i for i in data["accounts"][0]["invoices"] if i["number"] != "INV-1001"]
    data["closed_as"] = closed_as
    return data


def test_a_full_ledger_closes_the_open_invoices_it_no_longer_lists_as_paid_elsewhere_and_says_so(
    tmp_path: Path, database_url: str
) -> None:
    assert run_cli("import", str(write(tmp_path, sample())), database_url=database_url).returncode == 0
    result = run_cli(
        "import",
        "--full",
        str(write(tmp_path, nightly_ledger("paid_elsewhere"), "night.json")),
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert "full ledger: 1 open invoice(s) not in the file closed as paid outside Slack: INV-1001" in result.stdout
    after = statuses(database_url)
    assert after["acme/INV-1001"] == ("paid", "paid_elsewhere")
    assert after["acme/INV-1002"] == ("open", None)
    assert after["globex/G-1"] == ("open", None)  # not in the file: left alone
    assert after["initech/INV-1001"] == ("open", None)
    db = Database(database_url)
    try:
        with db.read() as session:
            [report] = session.scalars(select(InvoicePaidElsewhereRecord)).all()
            assert (report.amount_minor, report.method, report.source) == (125000, "full ledger import", "import")
    finally:
        db.dispose()


def test_the_same_full_ledger_again_changes_nothing_and_says_none_were_closed(
    tmp_path: Path, database_url: str
) -> None:
    run_cli("import", str(write(tmp_path, sample())), database_url=database_url)
    night = write(tmp_path, nightly_ledger("void"), "night.json")
    first = run_cli("import", "--full", str(night), database_url=database_url)
    again = run_cli("import", "--full", str(night), database_url=database_url)
    assert "closed as void: INV-1001" in first.stdout
    assert "full ledger: 0 open invoice(s) not in the file closed as void" in again.stdout
    assert "invoices: 0 created, 0 updated, 2 unchanged" in again.stdout
    assert statuses(database_url)["acme/INV-1001"] == ("void", "void")


def test_a_full_ledger_without_closed_as_is_rejected_naming_it_and_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    run_cli("import", str(write(tmp_path, sample())), database_url=database_url)
    data = nightly_ledger("void")
    del data["closed_as"]
    result = run_cli("import", "--full", str(write(tmp_path, data, "night.json")), database_url=database_url)
    assert result.returncode != 0
    assert result.stderr.splitlines()[:2] == [
        "import failed: 1 problem(s)",
        "closed_as: is required with --full: 'paid_elsewhere' or 'void'",
    ]
    assert statuses(database_url)["acme/INV-1001"] == ("open", None)


def test_a_closed_as_that_is_neither_is_rejected_with_its_path(tmp_path: Path, database_url: str) -> None:
    result = run_cli("import", "--full", str(write(tmp_path, nightly_ledger("refunded"))), database_url=database_url)
    assert result.returncode != 0
    assert result.stderr.splitlines()[1] == "closed_as: must be one of 'paid_elsewhere' or 'void'"


def test_a_plain_import_never_closes_what_the_file_leaves_out(tmp_path: Path, database_url: str) -> None:
    run_cli("import", str(write(tmp_path, sample())), database_url=database_url)
    result = run_cli("import", str(write(tmp_path, nightly_ledger("void"), "night.json")), database_url=database_url)
    assert result.returncode == 0 and "full ledger" not in result.stdout
    assert statuses(database_url)["acme/INV-1001"] == ("open", None)
