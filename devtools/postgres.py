"""Fresh, uniquely named PostgreSQL databases for test sessions.

Given a base URL such as ``postgresql+psycopg://billing:billing@127.0.0.1:5432/billing_test``
(``TEST_DATABASE_URL``, printed by ``.ci/postgres.sh``), :func:`fresh_database`
creates ``<prefix><pid>_<random>`` through the ``postgres`` maintenance
database (psycopg, autocommit), yields its URL in the same SQLAlchemy form,
and drops it afterwards (``WITH (FORCE)``, so leaked connections don't block).
"""

from __future__ import annotations

import os
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

__all__ = [
    "ENV_VAR",
    "TemporaryDatabase",
    "base_url_from_env",
    "connect_kwargs",
    "fresh_database",
    "temporary_database",
    "with_database",
]

ENV_VAR = "TEST_DATABASE_URL"
_NAME_OK = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def base_url_from_env(var: str = ENV_VAR) -> str | None:
    """The base PostgreSQL URL from the environment, or ``None`` when unset/empty."""
    value = os.environ.get(var, "").strip()
    return value or None


def with_database(url: str, dbname: str) -> str:
    """``url`` with its database name replaced by ``dbname`` (scheme, auth, query kept)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(dbname)))


def connect_kwargs(url: str) -> dict[str, Any]:
    """psycopg ``connect()`` keyword arguments for a ``postgresql[+driver]://`` URL."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ValueError(f"not a PostgreSQL URL: scheme {parts.scheme!r}")
    kwargs: dict[str, Any] = {}
    if parts.hostname:
        kwargs["host"] = parts.hostname
    if parts.port:
        kwargs["port"] = parts.port
    if parts.username:
        kwargs["user"] = urllib.parse.unquote(parts.username)
    if parts.password is not None:
        kwargs["password"] = urllib.parse.unquote(parts.password)
    dbname = urllib.parse.unquote(parts.path.lstrip("/"))
    if dbname:
        kwargs["dbname"] = dbname
    for key, value in urllib.parse.parse_qsl(parts.query):
        kwargs[key] = value
    return kwargs


class TemporaryDatabase:
    """A database created on :meth:`create` and dropped on :meth:`drop`.

    :param base_url: any URL of the server (its database name is ignored).
    :param prefix: name prefix; the full name is ``<prefix><pid>_<8 hex>``.
    :param maintenance_db: database to connect to for CREATE/DROP.
    """

    def __init__(self, base_url: str, prefix: str = "billing_tmp_", maintenance_db: str = "postgres") -> None:
        self.base_url = base_url
        self.name = f"{prefix}{os.getpid()}_{uuid.uuid4().hex[:8]}".lower()
        if not _NAME_OK.match(self.name):
            raise ValueError(f"bad database name {self.name!r}")
        self.maintenance_db = maintenance_db
        self.url = with_database(base_url, self.name)
        self.created = False

    def _admin(self) -> psycopg.Connection[Any]:
        kwargs = connect_kwargs(with_database(self.base_url, self.maintenance_db))
        kwargs.setdefault("connect_timeout", 10)
        return psycopg.connect(autocommit=True, **kwargs)

    def create(self) -> str:
        """Create the database; return its URL (same scheme as ``base_url``)."""
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.created = True
        return self.url

    def drop(self) -> None:
        """Drop the database (terminating any connections still open to it)."""
        if not self.created:
            return
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
        self.created = False


@contextmanager
def fresh_database(base_url: str | None = None, prefix: str = "billing_tmp_") -> Iterator[str]:
    """Create a fresh database, yield its URL, drop it on exit.

    ``base_url`` defaults to ``$TEST_DATABASE_URL``; ``LookupError`` if neither.
    """
    url = base_url or base_url_from_env()
    if url is None:
        raise LookupError(f"no PostgreSQL URL: set {ENV_VAR}")
    db = TemporaryDatabase(url, prefix)
    created = db.create()
    try:
        yield created
    finally:
        db.drop()


#: Alias of :func:`fresh_database` (the name ``tests/conftest.py`` imports).
temporary_database = fresh_database
