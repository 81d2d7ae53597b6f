"""The schema guard as an operator meets it: ``db status``, the refusal on an empty database, and
``db upgrade`` failing by name when the tables still differ from the models (issue 23, item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from billing_core.db.database import Database
from tests.support.serve_process import bot_command, serve_env
from tests.upgrades.deployments import empty_database, head_and_chain

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process

HEAD, CHAIN = head_and_chain()


def test_an_empty_database_is_refused_until_db_upgrade_and_db_status_says_what_is_pending(tmp_path: Path) -> None:
    with empty_database(tmp_path, "empty") as url:
        env = serve_env(url, "http://127.0.0.1:9", "http://127.0.0.1:9")
        refused = bot_command(env, tmp_path, "serve", "--no-scheduler")
        assert refused.returncode != 0
        assert refused.stderr.strip() == (
            f"error: the database has no billing-bot schema yet (this release needs revision {HEAD}): "
            "back it up, then run `billing-bot db upgrade`"
        )
        status = bot_command(env, tmp_path, "db", "status")
        assert status.returncode == 1
        assert status.stdout.splitlines() == [
            "current revision: none (empty database)",
            f"head: {HEAD}",
            f"pending: {', '.join(CHAIN)}",
        ]
        upgraded = bot_command(env, tmp_path, "db", "upgrade")
        assert (
            upgraded.returncode == 0
            and upgraded.stdout.strip() == f"database upgraded from empty to {HEAD}; it is up to date"
        )
        at_head = bot_command(env, tmp_path, "db", "status")
        assert at_head.returncode == 0
        assert at_head.stdout.splitlines() == [f"current revision: {HEAD}", f"head: {HEAD}", "pending: none"]


def test_db_upgrade_fails_naming_what_still_differs_from_the_models(tmp_path: Path) -> None:
    with empty_database(tmp_path, "drifted") as url:
        db = Database(url)
        db.upgrade()
        with db.engine.begin() as connection:  # someone removed an index by hand
            connection.execute(text("DROP INDEX ix_billing_principal_email"))
        db.dispose()
        env = serve_env(url, "http://127.0.0.1:9", "http://127.0.0.1:9")
        result = bot_command(env, tmp_path, "db", "upgrade")
        assert result.returncode != 0
        assert result.stderr.strip() == (
            "database upgrade failed: the schema differs from this release's models after upgrading: "
            "missing index billing_principal.ix_billing_principal_email"
        )
