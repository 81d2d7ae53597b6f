"""The ``console`` command: logging kept quiet on the terminal, then the console."""

from __future__ import annotations

import atexit
import logging

from bot.console.session import run_console
from bot.demo.environment import DemoEnvironment
from bot.settings import Settings


def console_command(settings: Settings, *, demo: bool) -> None:
    """``billing-bot console [--demo]``."""
    level = logging.DEBUG if settings.log_level.upper() == "DEBUG" else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    environment = DemoEnvironment() if demo else None
    if environment is not None:
        atexit.register(environment.stop)  # belt and braces: run_console stops it too
    run_console(settings, demo=environment)
