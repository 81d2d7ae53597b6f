"""What chat asked each person last, shared by every process on the database.

The bot runs as several replicas behind a load balancer: the reply "the first" to "Which one:
INV-1001 or INV-0998?" may reach another replica than the question. So the question is a row
(``billing_chat_question``), one per Slack person, replaced by the next one and ignored once it is
older than ``ttl``. The text is chat's own short encoding (``handlers.kit.seam.Pending``); this
module only keeps it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import ChatQuestionRecord

DEFAULT_TTL = timedelta(minutes=30)  # an answer after half an hour is a new request
MAX_QUESTION = 255


class ChatQuestions:
    """``ask`` keeps a person's last question; ``last`` reads it back while it is fresh."""

    def __init__(self, db: Database, clock: Clock, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self.db = db
        self.clock = clock
        self.ttl = ttl

    def ask(self, team_id: str, user_id: str, question: str) -> None:
        """Keep ``question`` (at most 255 characters) as the person's last one."""
        record = ChatQuestionRecord
        values = {
            "team_id": team_id[:64],
            "user_id": user_id[:64],
            "question": question[:MAX_QUESTION],
            "asked_at": self.clock.now(),
        }
        with self.db.transaction() as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            statement = insert(record).values(**values)
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=[record.team_id, record.user_id],
                    set_={"question": statement.excluded.question, "asked_at": statement.excluded.asked_at},
                )
            )

    def last(self, team_id: str, user_id: str) -> str | None:
        """The person's last question, unless older than ``ttl``."""
        record = ChatQuestionRecord
        with self.db.reading() as connection:
            row = connection.execute(
                select(record.question, record.asked_at).where(
                    record.team_id == team_id[:64], record.user_id == user_id[:64]
                )
            ).first()
        if row is None or row.asked_at < self.clock.now() - self.ttl:
            return None
        return str(row.question)

    def forget(self, team_id: str, user_id: str) -> None:
        """Nothing is asked any more (the person made a new request, or answered)."""
        record = ChatQuestionRecord
        with self.db.transaction() as session:
            session.execute(delete(record).where(record.team_id == team_id[:64], record.user_id == user_id[:64]))
