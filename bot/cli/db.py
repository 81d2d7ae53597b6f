"""``billing-bot db``: migrations and the schema's status."""

from __future__ import annotations

import typer

from bot.cli.common import fail, settings_or_exit

db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")


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
