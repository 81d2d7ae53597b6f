"""The README's example import file (``docs/example-import.json``) imports as it is."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_import_command import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example-import.json"


def test_the_documented_example_file_imports_as_is_and_a_second_import_changes_nothing(database_url: str) -> None:
    first = run_cli("import", str(EXAMPLE), database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "accounts: 2 created" in first.stdout and "invoices: 4 created" in first.stdout
    again = run_cli("import", str(EXAMPLE), database_url=database_url)
    assert again.returncode == 0, again.stderr
    assert "invoices: 0 created, 0 updated, 4 unchanged" in again.stdout
