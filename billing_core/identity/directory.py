"""Where people use the bot: the principals acting for an e-mail, and when each was last seen.

With several chat workspaces installed, one billing contact may be reachable in more than one of
them (their own company's and a Slack Connect partner's). Reminders go to where the person last
used the bot, else to a workspace where a colleague on one of their accounts did. Principals are
opaque here (the Slack layer names and parses them); the directory only orders them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import ContactRecord, PrincipalRecord
from billing_core.identity.emails import normalize_email

# A principal's last use is written at most this often: it orders workspaces, no more.
SEEN_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Reachable:
    """Principals to try for one e-mail, best first."""

    own: tuple[str, ...]  # this person, most recently seen first
    colleagues: tuple[str, ...]  # others on the same accounts, most recently seen first
    # Those of ``own`` that proved this e-mail is theirs (known by reachable_many; else not said).
    proven: frozenset[str] = frozenset()


class PrincipalDirectory:
    """Record who uses the bot where; answer where a contact can be reached."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def record_seen(self, principal: str, email: str) -> None:
        """Note that ``principal`` (showing ``email``) used the bot now."""
        self.record_seen_many({principal: email})

    def record_seen_many(self, seen: dict[str, str]) -> None:
        """Note several principals (principal -> e-mail) at once: one statement, which changes
        nothing for those seen with that e-mail within ``SEEN_EVERY``."""
        if not seen:
            return
        now = self.clock.now()
        record = PrincipalRecord
        rows = [
            {"principal": principal, "email": normalize_email(email), "last_seen_at": now, "updated_at": now}
            for principal, email in seen.items()
        ]
        with self.db.transaction() as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            statement = insert(record).values(rows)
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=[record.principal],
                    set_={"email": statement.excluded.email, "last_seen_at": now, "updated_at": now},
                    where=or_(
                        record.last_seen_at.is_(None),
                        record.last_seen_at < now - SEEN_EVERY,
                        record.email.is_(None),
                        record.email != statement.excluded.email,
                    ),
                )
            )

    def reachable(self, email: str) -> Reachable:
        """Where ``email`` may be reached: their own principals, then their colleagues'."""
        email = normalize_email(email)
        record = PrincipalRecord
        recent_first = (record.last_seen_at.desc().nulls_last(), record.id.desc())
        with self.db.read() as session:
            own = session.scalars(
                select(record.principal)
                .where(or_(record.email == email, record.verified_email == email))
                .order_by(*recent_first)
            ).all()
            accounts = select(ContactRecord.account_id).where(ContactRecord.email == email)
            colleagues = select(ContactRecord.email).where(
                ContactRecord.account_id.in_(accounts), ContactRecord.email != email
            )
            others = session.scalars(
                select(record.principal)
                .where(or_(record.email.in_(colleagues), record.verified_email.in_(colleagues)))
                .order_by(*recent_first)
            ).all()
        mine = tuple(dict.fromkeys(own))
        return Reachable(own=mine, colleagues=tuple(p for p in dict.fromkeys(others) if p not in mine))

    def reachable_many(self, emails: Iterable[str]) -> dict[str, Reachable]:
        """:meth:`reachable` for many e-mails at once (a sweep's next people): two reads per 500
        people (their colleagues' addresses, then everyone's principals), not two per person.
        Keyed by the normalised e-mail; the same order as :meth:`reachable`."""
        wanted = sorted({normalize_email(email) for email in emails})
        colleagues: dict[str, set[str]] = {email: set() for email in wanted}
        rows: list[tuple[str | None, str | None, str, Any, int]] = []
        record = PrincipalRecord
        me, colleague = aliased(ContactRecord), aliased(ContactRecord)
        with self.db.read() as session:
            for start in range(0, len(wanted), _MANY):
                part = wanted[start : start + _MANY]
                for email, other in session.execute(
                    select(me.email, colleague.email)
                    .join(colleague, and_(colleague.account_id == me.account_id, colleague.email != me.email))
                    .where(me.email.in_(part))
                ):
                    colleagues[email].add(other)
                addresses = sorted({*part, *(other for email in part for other in colleagues[email])})
                for at in range(0, len(addresses), _MANY):
                    some = addresses[at : at + _MANY]
                    rows.extend(
                        session.execute(
                            select(
                                record.email, record.verified_email, record.principal, record.last_seen_at, record.id
                            ).where(or_(record.email.in_(some), record.verified_email.in_(some)))
                        )
                    )
        shown: dict[str, list[tuple[Any, int, str]]] = {}  # e-mail -> principals showing or proving it
        proven: dict[str, set[str]] = {}
        for shows, verified, principal, seen, row_id in rows:
            for address in {shows, verified} - {None}:
                shown.setdefault(str(address), []).append((seen, row_id, principal))
            if verified is not None:
                proven.setdefault(verified, set()).add(principal)
        found: dict[str, Reachable] = {}
        for email in wanted:
            mine = tuple(dict.fromkeys(p for *_, p in sorted(shown.get(email, ()), key=_recent_first)))
            theirs = [row for other in colleagues[email] for row in shown.get(other, ())]
            others = dict.fromkeys(p for *_, p in sorted(theirs, key=_recent_first))
            found[email] = Reachable(
                own=mine,
                colleagues=tuple(p for p in others if p not in mine),
                proven=frozenset(proven.get(email, set()) & set(mine)),
            )
        return found

    def known(self, principal_prefix: str, *, limit: int = 500) -> list[str]:
        """The principals starting with ``principal_prefix`` (one workspace's people), most recent first."""
        with self.db.read() as session:
            return list(
                session.scalars(
                    select(PrincipalRecord.principal)
                    .where(PrincipalRecord.principal.like(f"{_escaped(principal_prefix)}%", escape="\\"))
                    .order_by(PrincipalRecord.last_seen_at.desc().nulls_last(), PrincipalRecord.id.desc())
                    .limit(limit)
                )
            )

    def forget(self, principal_prefix: str) -> int:
        """Remove every principal starting with ``principal_prefix`` (a workspace that uninstalled).

        Their identity links and active-account choices go with them; returns how many.
        """
        with self.db.transaction() as session:
            removed = cast(
                CursorResult[Any],
                session.execute(
                    delete(PrincipalRecord).where(
                        PrincipalRecord.principal.like(f"{_escaped(principal_prefix)}%", escape="\\")
                    )
                ),
            )
            return int(removed.rowcount)


_MANY = 500  # e-mails per IN (...) list


def _recent_first(row: tuple[Any, int, str]) -> tuple[bool, float, int]:
    """Most recently seen first, never seen last, then the newest row (as :meth:`reachable` orders)."""
    seen, row_id, _ = row
    return (seen is None, -seen.timestamp() if seen is not None else 0.0, -row_id)


def _escaped(prefix: str) -> str:
    """``prefix`` for a ``LIKE`` pattern with ``\\`` as the escape character."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
