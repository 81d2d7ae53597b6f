"""``billing-bot``: the command line (see CONTRACT.md). Exit 0 on success, else one line on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from billing_core.errors import BillingError, ConfigurationError, InvalidImport
from bot.settings import Settings, get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="billing-bot: pay and manage bills in Slack.")
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
reminders_app = typer.Typer(no_args_is_help=True, help="Invoice reminders.")
payments_app = typer.Typer(no_args_is_help=True, help="Payments.")
identities_app = typer.Typer(no_args_is_help=True, help="Links between Slack users and proven e-mail addresses.")
autopay_app = typer.Typer(no_args_is_help=True, help="Charging open invoices with the default card on their due date.")
webhooks_app = typer.Typer(no_args_is_help=True, help="Events sent to OUTBOUND_WEBHOOK_URL (and receipts).")
installations_app = typer.Typer(no_args_is_help=True, help="Slack workspaces installed over OAuth.")
invoices_app = typer.Typer(no_args_is_help=True, help="Invoices from Stripe Billing (INVOICE_SOURCE=stripe).")
app.add_typer(db_app, name="db")
app.add_typer(reminders_app, name="reminders")
app.add_typer(payments_app, name="payments")
app.add_typer(identities_app, name="identities")
app.add_typer(installations_app, name="installations")
app.add_typer(autopay_app, name="autopay")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(invoices_app, name="invoices")

R = TypeVar("R")


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


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit non-zero."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def not_available(what: str) -> NoReturn:
    fail(f"{what} is not available yet", code=2)


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ConfigurationError as error:
        fail(f"configuration error: {error}")


def guarded(action: Callable[[], R]) -> R:
    """Run ``action``; turn domain and configuration errors into a one-line failure."""
    try:
        return action()
    except ConfigurationError as error:
        fail(f"configuration error: {error}")
    except BillingError as error:
        fail(f"error: {error}")


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now must be an ISO-8601 date or time, got {value!r}")
    if moment.tzinfo is None:
        settings = settings_or_exit()
        moment = moment.replace(tzinfo=settings.timezone)
    return moment


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations up to head (safe to run again); fails if the schema then still
    differs from this release's models, naming what differs."""
    from billing_core.db.database import Database
    from billing_core.db.schema import SchemaMismatch, schema_differences, schema_status

    settings = settings_or_exit()
    database = Database(settings.database_url)
    try:
        before = schema_status(database)
        database.upgrade()
        differences = schema_differences(database)
        after = schema_status(database)
    except Exception as error:
        fail(f"database upgrade failed: {type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
    finally:
        database.dispose()
    if differences:
        fail(f"database upgrade failed: {SchemaMismatch(differences)}")
    if after.newer:
        typer.echo(f"database is at revision {after.current}, newer than this release's {after.head}: left as it is")
    elif before.pending:
        typer.echo(f"database upgraded from {before.current or 'empty'} to {after.head}; it is up to date")
    else:
        typer.echo(f"database is up to date (revision {after.head})")


@db_app.command("status")
def db_status() -> None:
    """Current revision, head and pending revisions; exit 0 at head, 1 when behind."""
    from billing_core.db.database import Database
    from billing_core.db.schema import schema_status

    settings = settings_or_exit()
    database = Database(settings.database_url)
    try:
        status = schema_status(database)
    except Exception as error:
        fail(f"database status failed: {type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
    finally:
        database.dispose()
    for line in status.describe():
        typer.echo(line)
    if status.behind:
        raise typer.Exit(1)


def require_current_schema(settings: Settings) -> None:
    """Refuse, in one line naming `billing-bot db upgrade`, a database behind this release."""
    from billing_core.db.database import Database
    from billing_core.db.schema import SchemaNotCurrent
    from billing_core.db.schema import require_current_schema as check

    database = Database(settings.database_url)
    try:
        check(database)
    except SchemaNotCurrent as error:
        fail(f"error: {error}")
    except Exception as error:
        fail(f"database unavailable: {type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
    finally:
        database.dispose()


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
    from bot.importing import run_import

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
    from bot.socket_mode import run_socket  # after the checks: its imports log at start-up

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
    from bot.console.main import console_command

    settings = settings_or_exit()
    if not demo:  # the demo migrates its own database
        require_current_schema(settings)
    guarded(lambda: console_command(settings, demo=demo))


@reminders_app.command("run-once")
def reminders_run_once(
    now: Annotated[str | None, typer.Option(help="Pretend it is this ISO-8601 time")] = None,
) -> None:
    """One reminder sweep, then exit."""
    from bot.operator_slack import require_slack
    from bot.reminder_commands import run_once

    settings = settings_or_exit()
    moment = parse_now(now)
    guarded(lambda: require_slack(settings))
    require_current_schema(settings)
    for line in run_reminder_command(lambda: run_once(settings, moment)):
        typer.echo(line)


@reminders_app.command("preview")
def reminders_preview(now: Annotated[str | None, typer.Option(help="Pretend it is this ISO-8601 time")] = None) -> None:
    """Print what a sweep would send, without sending."""
    from bot.reminder_commands import preview

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


@payments_app.command("reconcile")
def payments_reconcile() -> None:
    """Settle payments left pending or awaiting authentication by asking Stripe."""
    from bot.operator_slack import operator_services

    settings = settings_or_exit()
    guarded(lambda: settings.require("STRIPE_API_KEY"))
    require_current_schema(settings)
    services = guarded(lambda: operator_services(settings))
    if services.payments is None:  # settings.require has refused a missing key already
        fail("STRIPE_API_KEY is not set")
    payments = services.payments.service
    try:
        summary = guarded(payments.reconcile)
    finally:
        services.db.dispose()
    typer.echo(f"reconciled: {summary}")


@autopay_app.command("run-once")
def autopay_run_once(
    now: Annotated[str | None, typer.Option(help="Pretend it is this ISO-8601 time")] = None,
) -> None:
    """One autopay pass, then exit: prints ``charged N, declined N, skipped N``."""
    from bot.autopay_commands import run_once

    settings = settings_or_exit()
    moment = parse_now(now)
    require_current_schema(settings)
    typer.echo(guarded(lambda: run_once(settings, moment)))


def parse_date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date (YYYY-MM-DD), got {value!r}")


@invoices_app.command("sync")
def invoices_sync(
    since: Annotated[str | None, typer.Option(help="Only invoices created on or after this date (YYYY-MM-DD)")] = None,
) -> None:
    """Fetch the Stripe Billing invoices of the bot's customers and bring the bot's invoices up to date."""
    from bot.invoice_commands import sync

    settings = settings_or_exit()
    day = parse_date("--since", since)
    require_current_schema(settings)
    typer.echo(guarded(lambda: sync(settings, day)))


@payments_app.command("export")
def payments_export(
    since: Annotated[str | None, typer.Option(help="Only payments created on or after this date")] = None,
    until: Annotated[str | None, typer.Option(help="Only payments created on or before this date (inclusive)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    output: Annotated[Path | None, typer.Option(help="Write to this file (atomically) instead of stdout")] = None,
) -> None:
    """Every payment made through the bot, for the vendor's books (streamed)."""
    from bot.payments_export import export_payments

    if fmt not in ("csv", "json"):
        fail(f"--format must be csv or json, got {fmt!r}")
    start, end = parse_date("--since", since), parse_date("--until", until)
    if start and end and end < start:
        fail("--until is before --since")
    settings = settings_or_exit()
    require_current_schema(settings)
    try:
        guarded(
            lambda: export_payments(
                settings, since=start, until=end, fmt="csv" if fmt == "csv" else "json", output=output
            )
        )
    except typer.Exit:
        raise
    except BrokenPipeError:
        sys.stderr.close()  # a reader that stopped early (| head) is not an error
    except OSError as error:
        fail(f"export failed: {type(error).__name__}: {error}")
    except Exception as error:
        first_line = (str(error).splitlines() or [""])[0]
        fail(f"export failed: {type(error).__name__}: {first_line}")


@payments_app.command("show")
def payments_show(payment_id: Annotated[int, typer.Argument(help="The payment's id (payment #N)")]) -> None:
    """Everything known about one payment: the record, Stripe's status, its outbound deliveries."""
    from bot.payment_commands import show_payment

    settings = settings_or_exit()
    require_current_schema(settings)
    for line in guarded(lambda: show_payment(settings, payment_id)):
        typer.echo(line)


@webhooks_app.command("retry")
def webhooks_retry(
    event: Annotated[str | None, typer.Option("--event", help="Send this event (evt_...) again")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Send every event that failed for good again")] = False,
) -> None:
    """Send outbound events again: one by id, or every failed one."""
    from bot.payment_commands import retry_events

    if (event is None) == (not failed):
        fail("give exactly one of --event ID or --failed")
    settings = settings_or_exit()
    require_current_schema(settings)
    typer.echo(guarded(lambda: retry_events(settings, event_id=event, failed=failed)))


@app.command("audit")
def audit(
    account: Annotated[str | None, typer.Option(help="Only this account (its external id)")] = None,
    since: Annotated[str | None, typer.Option(help="Only events at or after this ISO-8601 date or time")] = None,
) -> None:
    """Print the audit trail: who did what to which account, when, and how it ended."""
    from bot.audit_report import print_audit

    settings = settings_or_exit()
    require_current_schema(settings)
    guarded(lambda: print_audit(settings, account=account, since=parse_now(since)))


@identities_app.command("revoke")
def identities_revoke(
    who: Annotated[str, typer.Argument(help="A verified e-mail, a Slack user id (U123) or principal (slack:T1:U123)")],
) -> None:
    """Unlink Slack users from a proven e-mail: they must verify again (email_code mode)."""
    from bot.identity_cli import revoke_identities

    settings = settings_or_exit()
    require_current_schema(settings)
    for line in guarded(lambda: revoke_identities(settings, who)):
        typer.echo(line)


@installations_app.command("reencrypt")
def installations_reencrypt() -> None:
    """Encrypt every stored Slack token under the first SLACK_TOKEN_ENCRYPTION_KEY (after adding or rotating one)."""
    from bot.oauth import reencrypt_tokens

    settings = settings_or_exit()
    require_current_schema(settings)
    typer.echo(guarded(lambda: reencrypt_tokens(settings)))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
