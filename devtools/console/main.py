"""The ``console`` command: logging kept quiet on the terminal, then the console."""

from __future__ import annotations

import atexit
import logging

from bot.logging_setup import configure_from_settings
from bot.settings import Settings
from devtools.console.session import run_console
from devtools.demo.environment import DemoEnvironment


def console_command(settings: Settings, *, demo: bool) -> None:
    """``billing-bot console [--demo]``."""
    level = logging.DEBUG if settings.log_level.upper() == "DEBUG" else logging.WARNING
    configure_from_settings(settings, level=logging.getLevelName(level))  # redacted, like every command
    # The console passes a client and a token to Bolt on purpose (the token names the workspace).
    logging.getLogger("slack_bolt.App").setLevel(max(level, logging.ERROR))
    smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
    # The demo mails through SMTP_URL when it is set, else shows each e-mail in the terminal.
    environment = DemoEnvironment(smtp_url=smtp_url) if demo else None
    if environment is not None:
        atexit.register(environment.stop)  # belt and braces: run_console stops it too
    run_console(settings, demo=environment)
