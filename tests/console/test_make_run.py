"""``make run`` (``python -m bot.launch``) with no Slack configuration: one line, then the demo console."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.console_process import REPO, ConsoleProcess, clean_env, stripe_port, wait_until_gone

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process


def test_without_slack_credentials_one_line_names_the_readme_section_then_the_console_starts(tmp_path: Path) -> None:
    console = ConsoleProcess(["bot.launch"], cwd=tmp_path, env=clean_env())
    try:
        banner = console.read_until_prompt()
        console.type(":quit")
        console.finish()
    finally:
        console.kill()

    lines = banner.splitlines()
    assert "README, 'Connect Slack'" in lines[0]
    assert "\n## Connect Slack\n" in (REPO / "README.md").read_text()  # the section it names exists
    assert lines[1].startswith("billing-bot console")
    assert not any("Connect Slack" in line for line in lines[1:])
    assert lines[-1] == "ann@acme.test> "
    assert console.proc.returncode == 0
    assert wait_until_gone(stripe_port(banner)) == []
