"""``billing-bot``: the command line. Exit 0 on success, else one line on stderr.

One module per sub-command group (``bot/cli/<group>.py``), the work they do in ``bot/cli/actions/``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from billing_core.errors import ConfigurationError, InvalidImport
from bot.cli.autopay import autopay_app
from bot.cli.common import fail, guarded, parse_date, parse_now, require_current_schema, settings_or_exit
from bot.cli.db import db_app
from bot.cli.identities import identities_app
from bot.cli.installations import installations_app
from bot.cli.invoices import invoices_app
from bot.cli.payments import payments_app
from bot.cli.reminders import reminders_app
from bot.cli.webhooks import webhooks_app
from bot.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="billing-bot: pay and manage bills in Slack.")
app.add_typer(db_app, name="db")
app.add_typer(reminders_app, name="reminders")
app.add_typer(payments_app, name="payments")
app.add_typer(identities_app, name="identities")
app.add_typer(installations_app, name="installations")
app.add_typer(autopay_app, name="autopay")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(invoices_app, name="invoices")


@app.callback()
def _start(ctx: typer.Context) -> None:
    # Logging first, so nothing a command logs escapes redaction. The console keeps its own
    # quiet terminal logging; with invalid settings the command itself reports the error.
    if ctx.invoked_subcommand == "console":
        return
    from bot.logging_setup import configure_from_settings, configure_logging

    try:
        settings = get_settings()
    except ConfigurationError:
        configure_logging(level="WARNING")
        return
    # One-shot commands keep stderr for their one-line outcome unless asked for more (LOG_LEVEL=DEBUG).
    quiet = ctx.invoked_subcommand not in ("serve", "socket") and settings.log_level.upper() != "DEBUG"
    configure_from_settings(settings, level="WARNING" if quiet else None)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="JSON file of accounts, contacts and invoices")],
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="The file lists every open invoice of its accounts: close the open ones it does not list "
            "as its closed_as says (paid_elsewhere or void)",
        ),
    ] = False,
) -> None:
    """Load accounts, contacts and invoices. Idempotent; an invalid file changes nothing."""
    from bot.cli.actions.importing import run_import

    settings = settings_or_exit()
    require_current_schema(settings)
    try:
        summary = run_import(settings, file, full=full)
    except InvalidImport as error:
        typer.echo(f"import failed: {len(error.problems)} problem(s)", err=True)
        for path, message in error.problems:
            typer.echo(f"{path}: {message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(summary)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 3000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes sharing the port")] = 1,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Do not run scheduled jobs")] = False,
) -> None:
    """Serve Slack over HTTP (and the Stripe webhook, /healthz, /metrics)."""
    settings = settings_or_exit()
    if not settings.oauth_enabled:
        guarded(lambda: settings.require("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"))
    else:
        guarded(lambda: settings.require("SLACK_SIGNING_SECRET"))
    guarded(settings.check_identity_policy)
    guarded(settings.check_invoice_source)
    require_current_schema(settings)
    from bot.server import run_http  # after the checks: its imports log at start-up

    slack_startup(lambda: run_http(settings, host=host, port=port, scheduler=not no_scheduler, workers=workers))


@app.command("socket")
def socket(
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Do not run scheduled jobs")] = False,
) -> None:
    """Serve Slack over Socket Mode (needs SLACK_APP_TOKEN)."""
    settings = settings_or_exit()
    guarded(lambda: settings.require("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"))
    guarded(settings.check_identity_policy)
    guarded(settings.check_invoice_source)
    require_current_schema(settings)
    from bot.slack.socket_mode import run_socket  # after the checks: its imports log at start-up

    slack_startup(lambda: run_socket(settings, scheduler=not no_scheduler))


def slack_startup(run: Callable[[], None]) -> None:
    """Run a Slack mode; a token Slack rejects at start-up is a one-line failure, not a trace."""
    from slack_bolt.error import BoltError

    try:
        guarded(run)
    except BoltError as error:
        fail(f"Slack start-up failed: {str(error).splitlines()[0]}")


@app.command("console")
def console(demo: Annotated[bool, typer.Option("--demo", help="Seed demo data and run localstripe")] = False) -> None:
    """A terminal that plays Slack, driving the same app (--demo: fresh demo data, localstripe)."""
    import importlib.util

    # The console is a development tool: a production install (no `console` extra) says so.
    if any(importlib.util.find_spec(name) is None for name in ("devtools", "prompt_toolkit", "localstripe")):
        fail("the console needs the development tools: pip install 'billing-bot[console]' (make run installs them)")
    from devtools.console.main import console_command

    settings = settings_or_exit()
    if not demo:  # the demo migrates its own database
        require_current_schema(settings)
    guarded(lambda: console_command(settings, demo=demo))


@app.command("audit")
def audit(
    account: Annotated[str | None, typer.Option(help="Only this account (its external id)")] = None,
    since: Annotated[str | None, typer.Option(help="Only events at or after this ISO-8601 date or time")] = None,
) -> None:
    """Print the audit trail: who did what to which account, when, and how it ended."""
    from bot.cli.actions.audit import print_audit

    settings = settings_or_exit()
    require_current_schema(settings)
    guarded(lambda: print_audit(settings, account=account, since=parse_now(since)))


@app.command("receivables")
def receivables(
    fmt: Annotated[str, typer.Option("--format", help="csv (default) or json")] = "csv",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Count days overdue as on this date (default: today)")
    ] = None,
) -> None:
    """The aging table: open amounts per currency and account, by days overdue (current, 1-30, 31-60, 61-90, 90+)."""
    from bot.cli.actions.receivables import write_receivables

    if fmt not in ("csv", "json"):
        fail(f"--format must be csv or json, got {fmt!r}")
    day = parse_date("--as-of", as_of)
    settings = settings_or_exit()
    require_current_schema(settings)
    try:
        guarded(lambda: write_receivables(settings, fmt="csv" if fmt == "csv" else "json", out=sys.stdout, as_of=day))
        sys.stdout.flush()
    except typer.Exit:
        raise
    except BrokenPipeError:
        sys.stderr.close()
    except Exception as error:
        first_line = (str(error).splitlines() or [""])[0]
        fail(f"receivables failed: {type(error).__name__}: {first_line}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
