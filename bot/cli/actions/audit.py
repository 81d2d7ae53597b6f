"""``billing-bot audit``: the audit trail as one line per event."""

from __future__ import annotations

import json
from datetime import datetime

import typer

from bot.compose import build_services
from bot.settings import Settings


def print_audit(settings: Settings, *, account: str | None, since: datetime | None) -> None:
    services = build_services(settings)
    try:
        entries = services.audit.entries(account_external_id=account, since=since, limit=100_000)
    finally:
        services.db.dispose()
    for entry in entries:
        detail = json.dumps(entry.detail, sort_keys=True) if entry.detail else ""
        typer.echo(
            "\t".join(
                [
                    entry.at.isoformat(timespec="seconds"),
                    entry.actor,
                    entry.account_external_id or "-",
                    entry.action,
                    entry.target or "-",
                    entry.outcome,
                    detail,
                ]
            ).rstrip()
        )
    typer.echo(f"{len(entries)} event(s)", err=True)
