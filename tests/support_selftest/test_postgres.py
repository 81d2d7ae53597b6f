"""A fresh PostgreSQL database is created per session and dropped afterwards."""

from __future__ import annotations

import psycopg
import pytest

from devtools.postgres import base_url_from_env, connect_kwargs, fresh_database, with_database


def test_urls_are_translated_for_psycopg() -> None:
    url = "postgresql+psycopg://bill%40x:p%3Ass@db.local:6543/billing_test?sslmode=disable"
    assert connect_kwargs(url) == {
        "host": "db.local",
        "port": 6543,
        "user": "bill@x",
        "password": "p:ss",
        "dbname": "billing_test",
        "sslmode": "disable",
    }
    assert with_database(url, "other").startswith("postgresql+psycopg://bill%40x:p%3Ass@db.local:6543/other?")


def test_a_fresh_database_exists_only_inside_the_block() -> None:
    base = base_url_from_env()
    if base is None:
        pytest.skip("TEST_DATABASE_URL is not set (run .ci/postgres.sh)")
    admin = connect_kwargs(with_database(base, "postgres"))
    with fresh_database(base) as url:
        name = connect_kwargs(url)["dbname"]
        with psycopg.connect(**connect_kwargs(url)) as conn:
            assert conn.execute("select current_database()").fetchone() == (name,)
            conn.execute("create table t (id int)")
            conn.commit()
    with psycopg.connect(**admin) as conn:
        assert conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is None


def test_the_postgres_url_fixture_gives_a_working_database(postgres_url: str) -> None:
    with psycopg.connect(**connect_kwargs(postgres_url)) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
