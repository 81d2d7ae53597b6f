"""``billing-bot reminders``: one sweep now, or a preview of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from bot.cli.common import fail, guarded, parse_now, require_current_schema, settings_or_exit

reminders_app = typer.Typer(no_args_is_help=True, help="Invoice reminders.")


@reminders_app.command("run-once")
def reminders_run_once(
    now: Annotated[str | None, typer.Option(help="Pretend it is this ISO-8601 time")] = None,
) -> None:
    """One reminder sweep, then exit."""
    from bot.cli.actions.reminders import run_once
    from bot.slack.operator import require_slack

    settings = settings_or_exit()
    moment = parse_now(now)
    guarded(lambda: require_slack(settings))
    require_current_schema(settings)
    for line in run_reminder_command(lambda: run_once(settings, moment)):
        typer.echo(line)


@reminders_app.command("preview")
def reminders_preview(now: Annotated[str | None, typer.Option(help="Pretend it is this ISO-8601 time")] = None) -> None:
    """Print what a sweep would send, without sending."""
    from bot.cli.actions.reminders import preview

    settings = settings_or_exit()
    moment = parse_now(now)
    require_current_schema(settings)
    for line in run_reminder_command(lambda: preview(settings, moment)):
        typer.echo(line)


def run_reminder_command(action: Callable[[], list[str]]) -> list[str]:
    """Domain errors as ``guarded``; anything else (database down) is one line, exit 1."""
    try:
        return guarded(action)
    except typer.Exit:
        raise
    except Exception as error:
        first_line = (str(error).splitlines() or [""])[0]
        fail(f"reminder sweep could not run: {type(error).__name__}: {first_line}")
