"""``billing-bot import`` as an operator runs it: real files, exit codes and stderr; the command in
this process (``tests.support.cli``), and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.core.sample_data import sample
from tests.support import cli


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return cli.run_cli(*args, env=cli.cli_env(("SLACK_", "STRIPE_"), DATABASE_URL=database_url))


def run_process(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot <args>`` as a separate process."""
    env = cli.cli_env(("SLACK_", "STRIPE_"), DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def write(tmp_path: Path, data: object, name: str = "import.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_importing_a_file_prints_what_was_created_then_that_nothing_changed(tmp_path: Path, database_url: str) -> None:
    path = write(tmp_path, sample())
    first = run_cli("import", str(path), database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "accounts: 3 created" in first.stdout and "invoices: 6 created" in first.stdout
    second = run_cli("import", str(path), database_url=database_url)
    assert second.returncode == 0
    assert "invoices: 0 created, 0 updated, 6 unchanged" in second.stdout


def test_a_rejected_file_lists_each_problem_with_its_path_and_exits_non_zero(tmp_path: Path, database_url: str) -> None:
    data = sample()
    data["accounts"][0]["invoices"][1]["amount_due"] = -3
    data["accounts"][1]["contacts"][0]["email"] = "not-an-email"
    result = run_cli("import", str(write(tmp_path, data)), database_url=database_url)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "import failed: 2 problem(s)"
    assert lines[1] == "accounts[0].invoices[1].amount_due: must not be negative"
    assert lines[2].startswith("accounts[1].contacts[0].email: ")
    assert "Traceback" not in result.stderr


@pytest.mark.process  # the installed command as a process: its interpreter, exit code and stderr
def test_a_file_that_is_not_json_is_rejected_in_one_line(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"accounts": [')
    result = run_process("import", str(path), database_url=database_url)
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == "import failed: 1 problem(s)"
    assert result.stderr.splitlines()[1].startswith("(file): is not valid JSON")


def test_db_upgrade_can_run_twice(database_url: str) -> None:
    assert run_cli("db", "upgrade", database_url=database_url).returncode == 0
    again = run_cli("db", "upgrade", database_url=database_url)
    assert again.returncode == 0 and "up to date" in again.stdout


def test_the_audit_command_lists_the_import_and_filters_by_account(tmp_path: Path, database_url: str) -> None:
    run_cli("import", str(write(tmp_path, sample())), database_url=database_url)
    everything = run_cli("audit", database_url=database_url)
    assert everything.returncode == 0
    assert "\timport\t" in everything.stdout
    only_acme = run_cli("audit", "--account", "acme", "--since", "2000-01-01", database_url=database_url)
    assert only_acme.returncode == 0 and only_acme.stdout == ""
