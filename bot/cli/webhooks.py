"""``billing-bot webhooks``: send outbound events again."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import fail, guarded, require_current_schema, settings_or_exit

webhooks_app = typer.Typer(no_args_is_help=True, help="Events sent to OUTBOUND_WEBHOOK_URL (and receipts).")


@webhooks_app.command("retry")
def webhooks_retry(
    event: Annotated[str | None, typer.Option("--event", help="Send this event (evt_...) again")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Send every event that failed for good again")] = False,
) -> None:
    """Send outbound events again: one by id, or every failed one."""
    from bot.cli.actions.payments import retry_events

    if (event is None) == (not failed):
        fail("give exactly one of --event ID or --failed")
    settings = settings_or_exit()
    require_current_schema(settings)
    typer.echo(guarded(lambda: retry_events(settings, event_id=event, failed=failed)))
