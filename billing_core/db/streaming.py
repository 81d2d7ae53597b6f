"""A large query's rows as they come, at most ``fetch_rows`` of them in memory at once, read the
fastest way the driver offers (the PostgreSQL specifics of reading live here, not in the rules).

With psycopg the driver is used directly: every selected column already arrives as the type the
caller uses (int, str, date), and skipping SQLAlchemy's Row objects saves about a third of the
client's time at half a million rows. With libpq 17+ the rows stream in chunks from one plain
query, which PostgreSQL may run in parallel (a cursor never is); the query then lasts as long as
the read, so ``statement_timeout_seconds`` bounds it. Elsewhere SQLAlchemy streams.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import psycopg
from sqlalchemy import Select
from sqlalchemy.engine import Connection


def stream_rows(
    connection: Connection,
    query: Select[Any],
    *,
    fetch_rows: int,
    statement_timeout_seconds: float,
    postgres_settings: Sequence[str] = (),
    cursor_name: str = "billing_stream",
) -> Generator[Sequence[Any], None, None]:
    """The rows of ``query``; on PostgreSQL, ``postgres_settings`` (``SET LOCAL ...``) run first."""
    if connection.dialect.driver != "psycopg":
        result = connection.execute(query, execution_options={"yield_per": fetch_rows})
        try:
            for rows in result.partitions():
                yield from rows
        finally:
            result.close()
        return
    for statement in postgres_settings:
        connection.exec_driver_sql(statement)
    compiled = query.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    for name, bind in compiled.binds.items():
        process = bind.type.bind_processor(connection.dialect)
        if process is not None and name in params:
            params[name] = process(params[name])
    driver_connection: Any = connection.connection.driver_connection
    if chunked_streams():
        timeout_ms = int(statement_timeout_seconds * 1000)
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
        with driver_connection.cursor() as cursor:
            yield from cursor.stream(compiled.string, params, size=fetch_rows)
        return
    with driver_connection.cursor(name=cursor_name) as cursor:
        cursor.execute(compiled.string, params)
        while chunk := cursor.fetchmany(fetch_rows):
            yield from chunk


def chunked_streams() -> bool:
    """True when psycopg (3.2+) and libpq (17+) can stream a plain query's rows in chunks."""
    capabilities = getattr(psycopg, "capabilities", None)
    return capabilities is not None and bool(capabilities.has_stream_chunked())
