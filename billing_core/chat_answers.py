"""Which messages in the app's DM chat took in and answered, shared by every process on the database.

Every message a person writes in the app's DM gets an answer, so an edit of it
(``message_changed``) is left alone. But a message may have got none: it arrived while the bot was
down, or Slack gave up delivering it. Its edit is then answered, once. Both the message and its
edits claim the same row (``billing_chat_answered``: workspace, DM, the message's ts): the first
claim inserts it and answers, every later one (an edit of an answered message, Slack's retry, the
same edit seen by another replica) finds it and does nothing.

Rows are kept ``keep`` (30 days) and purged as new ones are written. An edit of a message older
than that cannot be told apart from one of an answered message whose row was purged, so it is
left alone too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects import postgresql, sqlite

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import ChatAnsweredRecord

DEFAULT_KEEP = timedelta(days=30)
PURGE_EVERY = 500  # claims between two purges, per process


def written_at(ts: str) -> datetime | None:
    """When a Slack message was written, from its ``ts`` (``"1700000000.000100"``); None if not a ts."""
    seconds, dot, fraction = ts.partition(".")
    if not (seconds.isdigit() and (not dot or fraction.isdigit())) or len(seconds) > 12:
        return None
    return datetime.fromtimestamp(int(seconds), UTC)


class ChatAnswers:
    """``claim`` is true exactly once per DM message (across processes) while it is within ``keep``."""

    def __init__(self, db: Database, clock: Clock, *, keep: timedelta = DEFAULT_KEEP) -> None:
        self.db = db
        self.clock = clock
        self.keep = keep
        self._claims = 0

    def claim(self, team_id: str, channel_id: str, message_ts: str, *, edit: bool = False) -> bool:
        """True for the first claim of this message: answer it. False when it was answered already.
        For an ``edit``, also False when the message is older than ``keep`` (or its ts is not one)."""
        now = self.clock.now()
        if edit:
            at = written_at(message_ts)
            if at is None or at < now - self.keep:
                return False
        record = ChatAnsweredRecord
        values = {
            "team_id": team_id[:64],
            "channel_id": channel_id[:64],
            "message_ts": message_ts[:32],
            "answered_at": now,
        }
        with self.db.transaction() as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            statement = insert(record).values(**values).on_conflict_do_nothing().returning(record.message_ts)
            inserted = session.execute(statement).first() is not None
        self._claims += 1
        if self._claims % PURGE_EVERY == 0:
            self.purge()
        return inserted

    def purge(self) -> int:
        """Delete the rows older than ``keep``; returns how many."""
        with self.db.transaction() as session:
            removed = cast(
                CursorResult[Any],
                session.execute(
                    delete(ChatAnsweredRecord).where(ChatAnsweredRecord.answered_at < self.clock.now() - self.keep)
                ),
            )
            return int(removed.rowcount)
