"""``make run``: serve Slack when it is configured, otherwise the local console on demo data."""

from __future__ import annotations

import sys

from bot.cli import app
from bot.settings import get_settings


def choose_command() -> list[str]:
    """The ``billing-bot`` arguments for what is configured."""
    settings = get_settings()
    if settings.slack_configured:
        if settings.slack_app_token is not None:
            return ["socket"]
        return ["serve"]
    print(
        "No Slack credentials configured (to connect a real workspace, see README, 'Connect Slack'): "
        "starting the local console on demo data.",
        flush=True,
    )
    return ["console", "--demo"]


def main() -> None:
    command = choose_command()
    if command[0] != "console":
        app(["db", "upgrade"], standalone_mode=False)
    sys.exit(app(command))


if __name__ == "__main__":
    main()
