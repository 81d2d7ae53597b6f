"""``billing-bot payments export``: writes the rows of ``billing_core.payments.export`` as CSV or JSON.

To a file, the output is written to a temp file in the same directory and renamed at the end, so
a reader never sees half an export; a symbolic link is followed (its target is replaced, the link
stays). A progress bar goes to stderr only when stderr is a terminal. In CSV, a text cell that a
spreadsheet would read as a formula is neutralised (OWASP's CSV-injection advice): the file is opened
by finance, and account names and invoice numbers come from outside.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO, Literal

from billing_core.db.database import Database
from billing_core.payments.export import COLUMNS, ExportRow, ExportWindow, PaymentExport
from bot.settings import Settings

Format = Literal["csv", "json"]
# What starts a formula in Excel, LibreOffice or Google Sheets (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """A text cell starting like a formula, with a leading ``'`` so a spreadsheet shows it as text,
    and its carriage returns as line feeds (Python 3.11's writer quotes a cell holding LF, not one
    holding a lone CR, which would start a new row); numbers (the id, the amount) unchanged."""
    if not isinstance(cell, str):
        return cell
    text = cell.replace("\r\n", "\n").replace("\r", "\n") if "\r" in cell else cell
    return "'" + text if cell.startswith(FORMULA_STARTS) else text


def write_csv(rows: Iterable[ExportRow], out: IO[str]) -> int:
    """The header line, then one line per payment, formula-like cells neutralised; returns the number of payments."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        count += 1
    return count


def write_json(rows: Iterable[ExportRow], out: IO[str]) -> int:
    """A JSON list of objects with the contract's keys, one per line, streamed."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(row.as_dict(), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


@contextmanager
def atomic_output(path: Path) -> Iterator[IO[str]]:
    """A text file that appears at ``path`` whole, or not at all. Through a symbolic link, the
    link's target is what is replaced (the temp file sits beside the target: one filesystem)."""
    target = path.resolve()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed, not deleted, when closed
        "w", encoding="utf-8", newline="", dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _with_progress(rows: Iterator[ExportRow], total: int) -> Iterator[ExportRow]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:  # never on stdout's rows
        task = progress.add_task("export", total=total)
        step = 0
        for row in rows:
            yield row
            step += 1
            if step == 1000:
                progress.advance(task, step)
                step = 0
        progress.advance(task, step)


def export_payments(
    settings: Settings,
    *,
    since: date | None,
    until: date | None,
    fmt: Format,
    output: Path | None,
    progress: bool | None = None,
) -> int:
    """Write the export to ``output`` (stdout when none); returns the number of payments."""
    window = ExportWindow.of_dates(since, until, settings.timezone)
    db = Database(settings.database_url)
    try:
        export = PaymentExport(db)
        show_progress = sys.stderr.isatty() if progress is None else progress
        if output is None and sys.stdout.isatty() and sys.stderr.isatty():
            show_progress = False  # the bar would be drawn over the rows
        rows: Iterator[ExportRow] = export.rows(window)
        if show_progress:
            rows = _with_progress(rows, export.count(window))
        write = write_csv if fmt == "csv" else write_json
        if output is None:
            count = write(rows, sys.stdout)
            sys.stdout.flush()
            return count
        with atomic_output(output) as handle:
            return write(rows, handle)
    finally:
        db.dispose()
