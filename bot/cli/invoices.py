"""``billing-bot invoices``: invoices from Stripe Billing."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import guarded, parse_date, require_current_schema, settings_or_exit

invoices_app = typer.Typer(no_args_is_help=True, help="Invoices from Stripe Billing (INVOICE_SOURCE=stripe).")


@invoices_app.command("sync")
def invoices_sync(
    since: Annotated[str | None, typer.Option(help="Only invoices created on or after this date (YYYY-MM-DD)")] = None,
) -> None:
    """Fetch the Stripe Billing invoices of the bot's customers and bring the bot's invoices up to date."""
    from bot.cli.actions.invoices import sync

    settings = settings_or_exit()
    day = parse_date("--since", since)
    require_current_schema(settings)
    typer.echo(guarded(lambda: sync(settings, day)))
