"""``make run`` (``python -m bot.launch``) with no Slack configuration: one line, then the demo console."""

from __future__ import annotations

from pathlib import Path

from tests.console.console_process import ConsoleProcess, clean_env, stripe_port, wait_until_gone


def test_without_slack_credentials_one_line_points_to_the_readme_then_the_console_starts(tmp_path: Path) -> None:
    console = ConsoleProcess(["bot.launch"], cwd=tmp_path, env=clean_env())
    try:
        banner = console.read_until_prompt()
        console.type(":quit")
        console.finish()
    finally:
        console.kill()

    lines = banner.splitlines()
    assert "Connect a real Slack workspace" in lines[0] and "README" in lines[0]
    assert lines[1].startswith("billing-bot console")
    assert not any("Connect a real Slack workspace" in line for line in lines[1:])
    assert lines[-1] == "ann@acme.test> "
    assert console.proc.returncode == 0
    assert wait_until_gone(stripe_port(banner)) == []
