"""OAuth mode's data: 10,000 installed workspaces in slack-sdk's installation store tables, and the
bench users' principals in them, proven (``IDENTITY_VERIFICATION=email_code``, OAuth's default).

The installations are bulk-inserted with SQLAlchemy core, one statement per batch, into the tables
``bot.slack.oauth.installation_store`` creates (``store.save()`` runs two transactions of two statements
each per workspace: minutes for 10,000). Rows are what ``save()`` writes: same columns, same
normalised datetimes, so ``find_bot`` reads them as it reads a real installation.

Bench user ``UB000042`` talks from workspace :func:`team_of` ``(42)``; the stand-in answers
``users.info`` for any ``UB`` user, whatever the token.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from sqlalchemy import delete, insert

from bench.generate import user_email, user_id
from bench.server import SIGNING_SECRET
from billing_core.db.database import Database
from billing_core.db.tables import PrincipalRecord
from bot.settings import Settings
from bot.slack.client import BOT_SCOPES
from bot.slack.oauth import installation_store

WORKSPACES = 10_000
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "bench-client-secret"
BOT_USER_ID = "UBOT"
_BATCH = 2_000


def workspace(n: int) -> str:
    return f"TW{n:05d}"


def team_of(a: int, workspaces: int = WORKSPACES) -> str:
    """The workspace account ``a``'s own contact talks from (7919 is prime: a spread, no clumps)."""
    return workspace((a * 7919) % workspaces)


def bot_token(team_id: str) -> str:
    return f"xoxb-bench-{team_id}"


def oauth_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings of an OAuth install (no ``SLACK_BOT_TOKEN``) on ``database_url``."""
    return Settings(
        _env_file=None, DATABASE_URL=database_url, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=SIGNING_SECRET, **overrides,
    )  # fmt: skip


def _rows(store: SQLAlchemyInstallationStore, teams: Iterable[str], now: float) -> Iterable[tuple[dict[str, Any], ...]]:
    for team in teams:
        installation = Installation(
            app_id="A111", enterprise_id=None, team_id=team, team_name=f"Bench {team}", bot_token=bot_token(team),
            bot_id=f"B{team}", bot_user_id=BOT_USER_ID, bot_scopes=list(BOT_SCOPES), user_id="UINSTALLER",
            installed_at=now,
        )  # fmt: skip
        i = installation.to_dict()
        b = installation.to_bot().to_dict()
        for row in (i, b):
            row["client_id"] = store.client_id
            row["installed_at"] = normalize_datetime_for_db(row.get("installed_at"))
            row["bot_token_expires_at"] = normalize_datetime_for_db(row.get("bot_token_expires_at"))
        i["user_token_expires_at"] = normalize_datetime_for_db(i.get("user_token_expires_at"))
        yield i, b


def install_workspaces(db: Database, count: int = WORKSPACES) -> dict[str, Any]:
    """Replace the bench client's installations with ``count`` workspaces; bulk, a few seconds."""
    started = time.perf_counter()
    store = installation_store(oauth_settings(db.url), db.engine)
    installations: list[dict[str, Any]] = []
    bots: list[dict[str, Any]] = []
    with db.engine.begin() as connection:
        connection.execute(delete(store.installations).where(store.installations.c.client_id == CLIENT_ID))
        connection.execute(delete(store.bots).where(store.bots.c.client_id == CLIENT_ID))
        for i, b in _rows(store, (workspace(n) for n in range(count)), time.time()):
            installations.append(i)
            bots.append(b)
            if len(bots) == _BATCH:
                connection.execute(insert(store.installations), installations)
                connection.execute(insert(store.bots), bots)
                installations, bots = [], []
        if bots:
            connection.execute(insert(store.installations), installations)
            connection.execute(insert(store.bots), bots)
    return {"workspaces": count, "seconds": round(time.perf_counter() - started, 2)}


def seed_principals(db: Database, accounts: Iterable[int], workspaces: int = WORKSPACES) -> int:
    """The principal of each account's own contact in its workspace, with the contact's address proven.

    ``billing_principal`` is cleared by every :func:`bench.generate.generate`, so this runs after it.
    """
    now = datetime.now(UTC)
    rows = []
    for a in dict.fromkeys(accounts):
        email = user_email(user_id(a))
        rows.append({
            "principal": f"slack:{team_of(a, workspaces)}:{user_id(a)}", "email": email, "verified_email": email,
            "verified_at": now, "updated_at": now, "last_seen_at": now,
        })  # fmt: skip
    with db.engine.begin() as connection:
        connection.execute(delete(PrincipalRecord).where(PrincipalRecord.principal.like("slack:TW%")))
        if rows:
            connection.execute(insert(PrincipalRecord), rows)
    return len(rows)
