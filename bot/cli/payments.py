"""``billing-bot payments``: reconcile, export and show payments."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import fail, guarded, parse_date, require_current_schema, settings_or_exit

payments_app = typer.Typer(no_args_is_help=True, help="Payments.")


@payments_app.command("reconcile")
def payments_reconcile() -> None:
    """Settle payments left pending or awaiting authentication by asking Stripe, and apply the
    refunds and disputes of the last 3 days that no webhook brought."""
    from bot.slack.operator import operator_services

    settings = settings_or_exit()
    guarded(lambda: settings.require("STRIPE_API_KEY"))
    require_current_schema(settings)
    services = guarded(lambda: operator_services(settings))
    if services.payments is None:  # settings.require has refused a missing key already
        fail("STRIPE_API_KEY is not set")
    payments = services.payments
    try:
        summary = guarded(payments.reconcile)
    finally:
        services.db.dispose()
    typer.echo(f"reconciled: {summary}")


@payments_app.command("export")
def payments_export(
    since: Annotated[str | None, typer.Option(help="Only payments created on or after this date")] = None,
    until: Annotated[str | None, typer.Option(help="Only payments created on or before this date (inclusive)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    output: Annotated[Path | None, typer.Option(help="Write to this file (atomically) instead of stdout")] = None,
) -> None:
    """Every payment made through the bot, for the vendor's books (streamed)."""
    from bot.cli.actions.export import export_payments

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
    from bot.cli.actions.payments import show_payment

    settings = settings_or_exit()
    require_current_schema(settings)
    for line in guarded(lambda: show_payment(settings, payment_id)):
        typer.echo(line)
