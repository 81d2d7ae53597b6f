"""Where a database's schema stands against this release: its revision, what is pending, and
whether the tables match the models.

The revision lives in ``billing_schema_version``. Releases before revision 0002 kept it in
Alembic's default ``alembic_version`` and migrate themselves on start-up: that table is left at
``0001`` for good, so such a release finds its own head there and keeps serving an upgraded
database while replicas are replaced (see README, "Upgrading").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, select
from sqlalchemy.engine import Connection

from billing_core.db import tables  # noqa: F401  (registers the records on the metadata)
from billing_core.db.base import Base
from billing_core.db.database import Database, alembic_config
from billing_core.errors import BillingError

VERSION_TABLE = "billing_schema_version"
LEGACY_VERSION_TABLE = "alembic_version"
LEGACY_REVISION = "0001"
UPGRADE_COMMAND = "billing-bot db upgrade"


class SchemaNotCurrent(BillingError):
    """The database is behind this release: it must be upgraded before the bot runs on it."""

    def __init__(self, status: SchemaStatus) -> None:
        self.status = status
        if status.current is None:
            where = f"the database has no billing-bot schema yet (this release needs revision {status.head})"
        else:
            where = (
                f"the database is at revision {status.current}, this release needs {status.head} "
                f"({len(status.pending)} pending)"
            )
        super().__init__(f"{where}: back it up, then run `{UPGRADE_COMMAND}`")


class SchemaMismatch(BillingError):
    """After upgrading, the tables still differ from what this release's models expect."""

    def __init__(self, differences: list[str]) -> None:
        self.differences = differences
        shown = "; ".join(differences[:5]) + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
        super().__init__(f"the schema differs from this release's models after upgrading: {shown}")


@dataclass(frozen=True)
class SchemaStatus:
    """``current`` is ``None`` for a database nobody migrated; ``known`` is false when a newer
    release migrated it to a revision this one does not have."""

    current: str | None
    head: str
    pending: tuple[str, ...]
    known: bool

    @property
    def behind(self) -> bool:
        return self.known and bool(self.pending)

    @property
    def newer(self) -> bool:
        return not self.known

    def describe(self) -> list[str]:
        """The lines ``billing-bot db status`` prints."""
        lines = [f"current revision: {self.current or 'none (empty database)'}", f"head: {self.head}"]
        if self.newer:
            lines.append("pending: none (the database was upgraded by a newer release)")
        elif self.pending:
            lines.append(f"pending: {', '.join(self.pending)}")
        else:
            lines.append("pending: none")
        return lines


def version_table(metadata: MetaData, name: str) -> Table:
    """A version table as Alembic makes one."""
    return Table(
        name, metadata, Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{name}_pkc"),
    )  # fmt: skip


def _revisions_in(connection: Connection, name: str) -> list[str]:
    table = version_table(MetaData(), name)
    return [str(value) for value in connection.execute(select(table.c.version_num)).scalars()]


def current_revision(connection: Connection) -> str | None:
    """The database's revision: from ``billing_schema_version``, else from a release before 0002."""
    names = set(inspect(connection).get_table_names())
    for name in (VERSION_TABLE, LEGACY_VERSION_TABLE):
        if name in names:
            revisions = _revisions_in(connection, name)
            return revisions[0] if revisions else None
    return None


def adopt_legacy_version(connection: Connection) -> None:
    """Carry the revision of a database written before 0002 into ``billing_schema_version``."""
    names = set(inspect(connection).get_table_names())
    if VERSION_TABLE in names or LEGACY_VERSION_TABLE not in names:
        return
    revisions = _revisions_in(connection, LEGACY_VERSION_TABLE)
    table = version_table(MetaData(), VERSION_TABLE)
    table.create(connection)
    for revision in revisions:
        connection.execute(table.insert().values(version_num=revision))


def keep_legacy_marker(connection: Connection) -> None:
    """Leave ``alembic_version`` at 0001, so a release before 0002 starting on this database (a
    replica not yet replaced, or a rollback) finds its own head and does not migrate it again."""
    names = set(inspect(connection).get_table_names())
    table = version_table(MetaData(), LEGACY_VERSION_TABLE)
    if LEGACY_VERSION_TABLE not in names:
        table.create(connection)
    if not _revisions_in(connection, LEGACY_VERSION_TABLE):
        connection.execute(table.insert().values(version_num=LEGACY_REVISION))


def schema_status(db: Database) -> SchemaStatus:
    """Where ``db`` stands against this release's migrations."""
    script = ScriptDirectory.from_config(alembic_config(db.url))
    head = script.get_current_head() or ""
    with db.engine.connect() as connection:
        current = current_revision(connection)
    try:
        pending = [revision.revision for revision in script.iterate_revisions(head, current or "base")]
    except CommandError:
        return SchemaStatus(current=current, head=head, pending=(), known=False)
    return SchemaStatus(current=current, head=head, pending=tuple(reversed(pending)), known=True)


def require_current_schema(db: Database) -> SchemaStatus:
    """Refuse (``SchemaNotCurrent``) a database behind this release; a newer one is served."""
    status = schema_status(db)
    if status.behind:
        raise SchemaNotCurrent(status)
    return status


def _ours(name: str | None, type_: str, _parent: Any) -> bool:
    if type_ != "table" or name is None:
        return True
    # Slack's installation store keeps its own tables (slack_*); the version tables are Alembic's.
    return not name.startswith("slack_") and name not in (VERSION_TABLE, LEGACY_VERSION_TABLE)


def schema_differences(db: Database) -> list[str]:
    """What differs between the database's tables and this release's models (``alembic check``)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "include_name": _ours, "version_table": VERSION_TABLE}
        )
        return [_describe(difference) for difference in _flatten(compare_metadata(context, Base.metadata))]


def _flatten(differences: Iterable[Any]) -> Iterable[Any]:
    for difference in differences:
        if isinstance(difference, list):  # column modifications come grouped per column
            yield from difference
        else:
            yield difference


_WORDS = {"add": "missing", "remove": "unexpected", "modify": "different"}


def _describe(difference: Any) -> str:
    """``missing column billing_payment.source``: what the database lacks or has beyond the models."""
    kind, *rest = difference
    verb, _, what = str(kind).partition("_")
    words = _WORDS.get(verb, verb)
    if what in ("column",):
        return f"{words} column {rest[1]}.{rest[2].name}"
    if verb == "modify":
        return f"{words} {what} of column {rest[1]}.{rest[2]}"
    thing = rest[0]
    table = getattr(thing, "table", None)
    name = getattr(thing, "name", None) or "(unnamed)"
    where = f"{table.name}." if table is not None and getattr(table, "name", None) else ""
    return f"{words} {what} {where}{name}"
