"""The import command's work: read the file, show progress on a terminal, apply it."""

from __future__ import annotations

import sys
from pathlib import Path

from billing_core.db.schema import require_current_schema
from billing_core.sources.importer import load_import_file
from billing_core.views import ImportSummary
from bot.compose import build_services
from bot.settings import Settings


def _total_invoices(data: object) -> int:
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        return 0
    return sum(
        len(a["invoices"]) for a in data["accounts"] if isinstance(a, dict) and isinstance(a.get("invoices"), list)
    )


def format_summary(summary: ImportSummary) -> str:
    lines = [
        f"accounts: {summary.accounts_created} created, {summary.accounts_updated} updated, "
        f"{summary.accounts_unchanged} unchanged",
        f"contacts: {summary.contacts_created} created, {summary.contacts_updated} updated, "
        f"{summary.contacts_unchanged} unchanged, {summary.extra.get('contacts_removed', 0)} removed",
        f"invoices: {summary.invoices_created} created, {summary.invoices_updated} updated, "
        f"{summary.invoices_unchanged} unchanged",
    ]
    kept = summary.extra.get("invoices_kept_paid", 0)
    if kept:
        lines.append(f"note: {kept} invoice(s) paid through billing-bot were kept paid although the file says open")
    left = summary.extra.get("invoices_left_open", 0)
    if left:
        lines.append(f"note: {left} invoice(s) the file closes stay open: a payment through billing-bot is under way")
    if summary.closed_as is not None:
        how = "paid outside Slack" if summary.closed_as == "paid_elsewhere" else "void"
        closed = " ".join(summary.closed)
        lines.append(
            f"full ledger: {len(summary.closed)} open invoice(s) not in the file closed as {how}"
            + (f": {_listed(summary.closed)}" if closed else "")
        )
        if summary.left_open:
            lines.append(
                f"full ledger: {len(summary.left_open)} left open, a payment through billing-bot is under way: "
                f"{_listed(summary.left_open)}"
            )
    return "\n".join(lines)


def _listed(numbers: tuple[str, ...], limit: int = 20) -> str:
    shown = " ".join(numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def run_import(settings: Settings, path: Path, *, full: bool = False) -> str:
    """Import ``path`` and return the printable summary. Raises ``InvalidImport``.

    ``full``: the file is the complete list of open invoices of its accounts (``import --full``).
    """
    data = load_import_file(path)
    services = build_services(settings)
    require_current_schema(services.db)
    try:
        total = _total_invoices(data)
        if sys.stderr.isatty() and total >= 1000:
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task("importing invoices", total=total)
                summary = services.importer.run(data, progress=lambda done: bar.update(task, completed=done), full=full)
        else:
            summary = services.importer.run(data, full=full)
    finally:
        services.db.dispose()
    return format_summary(summary)
