"""Slack's per-workspace limits kept across processes: one process sends in a workspace at a time.

Several replicas (or a cron ``reminders run-once`` beside a server) may sweep at once. Slack counts
each method's calls per workspace and app, whoever makes them, so per-process budgets would let
two processes spend a workspace's minute twice. Instead, a process that is about to call Slack in
a workspace first holds that workspace's lease (a ``billing_slack_limit`` row, ``method = '*'``):

* while it holds it, it alone calls Slack there, and its own budgets and ``Retry-After`` rests
  (``bot.slack.rate_limits``) are the workspace's; the check costs no query (the lease's end is
  known locally), and the leases it still uses are renewed together, one statement per 500
  workspaces every ``lease_seconds / 2``; those it no longer uses are given back then;
* a sweep (``batch()``) keeps the leases it takes until it ends, then gives them all back; a send
  outside a sweep gives its workspace back right after the call;
* another process's sweep wanting the workspace gets ``ChatHandledElsewhere``: the sweep leaves
  that person to the holder, which reaches them in its own pass; others wait like after a 429. A
  single send outside a sweep (a reveal after proof, an autopay notice) is never held up by
  another's sweep: it goes out under its own process's budgets (a few calls the tier's headroom
  absorbs), since nobody would send it later;
* a holder that died on this machine (killed, crashed: its pid is gone) is taken over at once, its
  last minute's calls not known; one on another machine is waited out (``lease_seconds``);
* a process taking a workspace over counts the previous holder's last minute as used (no tiered
  call before the previous lease's end plus a window) and keeps the ``Retry-After`` rests Slack
  gave anyone there: a 429 writes one row per (workspace, method), read when the lease is taken.

So the database sees one write per workspace per sweep (taking the lease) and a few renewals, not
one per call: at 500 DMs a second it is not the bottleneck. A holder stops calling ``margin``
seconds before its lease ends, so clocks a little apart across machines do no harm.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from billing_core.db.database import Database
from billing_core.db.tables import SlackLimitRecord
from billing_core.errors import ChatHandledElsewhere
from billing_core.leases import process_holder_id

LEASE = "*"
LEASE_SECONDS = 120.0
MARGIN = 5.0
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Taken:
    """A workspace lease just taken: how long ago the previous holder may last have called there
    (``None`` when nobody else held it), the most calls of one method it made in the window before
    (``None``: it lapsed without saying, so count its whole budget as used), and the ``Retry-After``
    rests still running, by method."""

    previous_ago: float | None = None
    previous_calls: int | None = None
    rests: dict[str, float] = field(default_factory=dict)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


class WorkspaceLeases:
    """This process's workspace leases (``holder``), in the database shared by every process."""

    def __init__(
        self,
        db: Database,
        *,
        holder: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        margin: float = MARGIN,
        wall: Callable[[], float] = time.time,
        recent: Callable[[str], int] = lambda _workspace: 0,
    ) -> None:
        self._db = db
        self._recent = recent  # the most calls of one method this process made there in the window
        self.holder = holder or process_holder_id()
        self._lease = lease_seconds
        self._margin = margin
        self._wall = wall
        self._lock = threading.Lock()
        self._held: dict[str, float] = {}  # workspace -> lease end
        self._used: dict[str, float] = {}  # workspace -> last hold()
        self._renew_at = 0.0
        self._batches = 0
        self._sweeping = threading.local()  # this thread is inside batch(): a sweep's sends
        self._elsewhere: dict[str, float] = {}  # workspace -> held by another process until at least
        self._given_back: dict[str, float] = {}  # workspace -> the until this process wrote giving it back

    def hold(self, workspace: str) -> Taken | None:
        """Make sure this process holds ``workspace``: ``None`` when it already did, a :class:`Taken`
        when it has just taken it, ``ChatHandledElsewhere`` when another process holds it."""
        key = workspace or "-"
        now = self._wall()
        with self._lock:
            if now >= self._renew_at and self._held:
                self._renew(now)
            until = self._held.get(key)
            self._used[key] = now
            if until is not None and until - self._margin > now:
                return None
            elsewhere = self._elsewhere.get(key)
            if elsewhere is not None and elsewhere > now:  # known to be another's: no query
                raise ChatHandledElsewhere(elsewhere - now)
            self._held.pop(key, None)
            try:
                taken = self._take(key, now)
            except ChatHandledElsewhere as held:
                # Asked again once its lease may have ended, or a few seconds on (given back early).
                self._elsewhere[key] = now + min(held.retry_after, self._margin)
                raise
            self._held[key] = now + self._lease
            if len(self._held) == 1:
                self._renew_at = now + self._lease / 2
            return taken

    def held_elsewhere(self, workspace: str) -> float | None:
        """How long another process is known to hold ``workspace`` still (no query), else ``None``."""
        key = workspace or "-"
        now = self._wall()
        with self._lock:
            until = self._held.get(key)
            if until is not None and until - self._margin > now:
                return None
            elsewhere = self._elsewhere.get(key)
            return elsewhere - now if elsewhere is not None and elsewhere > now else None

    def hold_many(self, workspaces: Iterable[str]) -> dict[str, Taken]:
        """Take, in one transaction, the leases of the ``workspaces`` nobody has ever held (no row
        yet: a first sweep, new installs), and note those another live process holds; the
        :class:`Taken` of each lease taken (nothing to inherit). The others are left to
        :meth:`hold` at their first call (its checks, one by one)."""
        now = self._wall()
        with self._lock:
            if now >= self._renew_at and self._held:
                self._renew(now)
            wanted = []
            for key in dict.fromkeys(workspace or "-" for workspace in workspaces):
                until = self._held.get(key)
                if until is not None and until - self._margin > now:
                    continue
                elsewhere = self._elsewhere.get(key)
                if elsewhere is not None and elsewhere > now:
                    continue
                wanted.append(key)
            if not wanted:
                return {}
            record = SlackLimitRecord
            taken: dict[str, Taken] = {}
            with self._db.transaction() as session:
                rows = session.execute(
                    select(record.workspace, record.holder, record.until).where(
                        record.workspace.in_(wanted), record.method == LEASE
                    )
                ).all()
                rested = set(
                    session.scalars(
                        select(record.workspace).where(record.workspace.in_(wanted), record.method != LEASE)
                    )
                )
                leased = {row.workspace: row for row in rows}
                fresh = [key for key in wanted if key not in leased and key not in rested]
                if fresh:
                    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
                    end = _at(now + self._lease)
                    values = [{"workspace": key, "method": LEASE, "holder": self.holder, "until": end} for key in fresh]
                    statement = (
                        insert(record)
                        .values(values)
                        .on_conflict_do_nothing(index_elements=["workspace", "method"])
                        .returning(record.workspace)
                    )
                    for key in session.scalars(statement):
                        taken[key] = Taken()
            for key, row in leased.items():
                if row.holder not in (None, self.holder) and _seconds(row.until) > now and not _gone(row.holder):
                    self._elsewhere[key] = now + min(_seconds(row.until) - now, self._margin)
            was_empty = not self._held
            for key in taken:
                self._held[key] = now + self._lease
                self._used[key] = now
            if was_empty and self._held:
                self._renew_at = now + self._lease / 2
            return taken

    def rest(self, workspace: str, method: str, seconds: float) -> None:
        """Slack answered 429 for ``method`` in ``workspace``: no process calls it there for ``seconds``."""
        key = workspace or "-"
        until = _at(self._wall() + seconds)
        record = SlackLimitRecord
        for _ in range(2):
            try:
                with self._db.transaction() as session:
                    changed = cast(
                        CursorResult[Any],
                        session.execute(
                            update(record)
                            .where(record.workspace == key, record.method == method, record.until < until)
                            .values(until=until)
                            .execution_options(synchronize_session=False)
                        ),
                    ).rowcount
                    if not changed and session.get(record, (key, method)) is None:
                        session.add(record(workspace=key, method=method, holder=None, until=until))
                        session.flush()
                return
            except IntegrityError:
                continue  # another process wrote the row first: update it

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many calls coming (a sweep): keep the leases taken for them until the last batch ends."""
        with self._lock:
            self._batches += 1
        self._sweeping.depth = getattr(self._sweeping, "depth", 0) + 1
        try:
            yield
        finally:
            self._sweeping.depth -= 1
            with self._lock:
                self._batches -= 1
                last = self._batches == 0
            if last:
                self.release_all()

    @property
    def sweeping_here(self) -> bool:
        """Whether the calling thread is in a sweep (``batch()``), rather than sending one message."""
        return getattr(self._sweeping, "depth", 0) > 0

    def done(self, workspace: str) -> None:
        """A call in ``workspace`` is over: outside a batch, give its lease back at once, so a sweep
        in another process is held up by one interactive send for no more than a rate window."""
        key = workspace or "-"
        with self._lock:
            if self._batches or key not in self._held:
                return
            del self._held[key]
            self._used.pop(key, None)
            self._release([key], self._wall())

    def release_all(self) -> None:
        """Give back every lease this process holds (a clean stop): another takes over at once."""
        now = self._wall()
        with self._lock:
            self._release(list(self._held), now)
            self._held.clear()
            self._used.clear()

    def _take(self, key: str, now: float) -> Taken:
        record = SlackLimitRecord
        at = _at(now)
        try:
            with self._db.transaction() as session:
                rows = session.execute(
                    select(record.method, record.holder, record.until, record.calls).where(record.workspace == key)
                ).all()
                lease = next((row for row in rows if row.method == LEASE), None)
                dead = lease is not None and lease.holder not in (None, self.holder) and _gone(lease.holder)
                if (
                    lease is not None
                    and lease.holder not in (None, self.holder)
                    and _seconds(lease.until) > now
                    and not dead
                ):
                    raise ChatHandledElsewhere(_seconds(lease.until) - now)
                if lease is None:
                    session.add(record(workspace=key, method=LEASE, holder=self.holder, until=_at(now + self._lease)))
                    session.flush()
                else:
                    taken = cast(
                        CursorResult[Any],
                        session.execute(
                            update(record)
                            .where(
                                record.workspace == key,
                                record.method == LEASE,
                                or_(
                                    record.holder.is_(None),
                                    record.holder == self.holder,
                                    record.until <= at,
                                    record.holder == (lease.holder if dead else self.holder),
                                ),
                            )
                            .values(holder=self.holder, until=_at(now + self._lease), calls=0)
                            .execution_options(synchronize_session=False)
                        ),
                    ).rowcount
                    if not taken:
                        raise ChatHandledElsewhere(self._lease)
        except IntegrityError:
            raise ChatHandledElsewhere(self._lease) from None
        previous, calls = None, None
        if dead:  # its calls stopped with it; how many it made in its last minute is not known
            return Taken(None, None, self._rests(rows, now))
        own = lease is not None and abs(_seconds(lease.until) - self._given_back.get(key, -1.0)) < 0.001
        if lease is not None and lease.holder != self.holder and not (lease.holder is None and own):
            previous = now - _seconds(lease.until)
            calls = int(lease.calls) if lease.holder is None else None  # given back, or lapsed
        return Taken(previous, calls, self._rests(rows, now))

    @staticmethod
    def _rests(rows: Iterable[Any], now: float) -> dict[str, float]:
        rests = {row.method: _seconds(row.until) - now for row in rows if row.method != LEASE}
        return {method: left for method, left in rests.items() if left > 0}

    def _renew(self, now: float) -> None:
        """Renew the leases used in the last lease period, give back the others (held: ``_lock``)."""
        active = [key for key in self._held if self._used.get(key, 0.0) > now - self._lease]
        in_use = set(active)
        idle = [key for key in self._held if key not in in_use]
        # Unused for a whole lease (longer than a rate window): the next holder owes them nothing.
        self._release(idle, now - self._lease + self._margin)
        for key in idle:
            self._held.pop(key, None)
            self._used.pop(key, None)
        renewed = 0
        record = SlackLimitRecord
        with self._db.transaction() as session:
            for chunk in _chunks(active):
                renewed += cast(
                    CursorResult[Any],
                    session.execute(
                        update(record)
                        .where(
                            record.workspace.in_(chunk),
                            record.method == LEASE,
                            record.holder == self.holder,
                            record.until > _at(now),
                        )
                        .values(until=_at(now + self._lease))
                        .execution_options(synchronize_session=False)
                    ),
                ).rowcount
            still = set(active)
            if renewed != len(active):  # some lapsed and were taken over: forget those
                still = set(
                    session.scalars(
                        select(record.workspace).where(record.method == LEASE, record.holder == self.holder)
                    )
                )
        self._held = {key: now + self._lease for key in active if key in still}
        self._renew_at = now + self._lease / 2

    def _release(self, keys: Iterable[str], last_call: float) -> None:
        """Give leases back, each marked with when this process may last have called there and the
        most calls of one method it made there in the window before (the next holder counts them)."""
        rows = [{"key": key, "until": _at(last_call), "calls": self._recent("" if key == "-" else key)} for key in keys]
        if not rows:
            return
        for row in rows:  # taken back later with nothing to inherit: these calls are counted here
            self._given_back[str(row["key"])] = last_call
        record = SlackLimitRecord
        with self._db.transaction() as session:
            session.connection().execute(
                update(record)
                .where(record.workspace == bindparam("key"), record.method == LEASE, record.holder == self.holder)
                .values(holder=None, until=bindparam("until"), calls=bindparam("calls")),
                rows,
            )


def _gone(holder: str) -> bool:
    """Whether ``holder`` (``host:pid:random``, ``process_holder_id``) was a process of this machine
    that has ended (killed, crashed): its lease need not be waited out."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:100] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
