"""``billing-bot <args>`` run in this process, answering like the process would.

A ``python -m bot`` process costs a second or two of imports before it does anything; most CLI
tests are about what a command prints and its exit code, which the Typer app gives in-process
as well. :func:`run_cli` runs the app with exactly the environment given (``os.environ`` is
replaced for the call, the settings cache cleared before and after), captures stdout and stderr
apart, and puts back the logging the command configured. An exception the command lets escape is
written to stderr as Python would print it, exit code 1. Tests that need a real process (a pipe,
a signal, the interpreter's own start-up) keep ``subprocess`` (``pytest.mark.process``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings

__all__ = ["cli_env", "run_cli"]


def cli_env(drop: tuple[str, ...], **extra: str) -> dict[str, str]:
    """This process's environment without the variables starting with ``drop``, plus ``extra``."""
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)} | extra


def run_cli(*args: str, env: Mapping[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``billing-bot <args>`` with the environment ``env`` (in the directory ``cwd``, where a ``.env``
    file would be read): its exit code, stdout and stderr."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    alembic = logging.getLogger("alembic")
    saved_alembic = alembic.level
    os.environ.clear()
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        get_settings.cache_clear()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        alembic.setLevel(saved_alembic)
    stderr = result.stderr
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = result.exception
        stderr += "".join(traceback.format_exception(type(error), error, error.__traceback__))
        code = 1
    return subprocess.CompletedProcess([sys.executable, "-m", "bot", *args], code, result.stdout, stderr)
