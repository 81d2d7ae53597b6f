"""``billing-bot autopay``: one autopay pass now."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import guarded, parse_now, require_current_schema, settings_or_exit

autopay_app = typer.Typer(no_args_is_help=True, help="Charging open invoices with the default card on their due date.")


@autopay_app.command("run-once")
def autopay_run_once(
    now: Annotated[str | None, typer.Option(help="Pretend it is this ISO-8601 time")] = None,
) -> None:
    """One autopay pass, then exit: prints ``charged N, declined N, skipped N``."""
    from bot.cli.actions.autopay import run_once

    settings = settings_or_exit()
    moment = parse_now(now)
    require_current_schema(settings)
    typer.echo(guarded(lambda: run_once(settings, moment)))
