"""One delivery pass: find each person, respect their working hours, claim, send, record.

A rate limit never stalls the pass: the group is set aside with its not-before time (its claims
given back untried), the pass moves on, and set-aside groups are retried as their time comes,
then once more at the end within a bounded wait. Whatever is still waiting is left for the next
sweep, unclaimed, so nothing is lost.

With several processes sweeping at once, each chat workspace is sent to by one of them at a time
(``ChatHandledElsewhere``): a group whose workspace another process holds is left to that process,
which reaches the same group in its own pass (or the next sweep does); it is not counted here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from billing_core.background import Pool
from billing_core.business_hours import within_business_hours, zone_or_utc
from billing_core.db.database import Database
from billing_core.errors import ChatDeliveryFailed, ChatDeliveryUnconfirmed, ChatHandledElsewhere, ChatRateLimited
from billing_core.messaging import Batching, ChatContact, Pipelining, PostedMessage
from billing_core.reminders import claims
from billing_core.reminders.messages import ReminderMessage, ReminderSender
from billing_core.reminders.plan import DueReminder, PlanWindow, ReminderGroup, iter_groups
from billing_core.reminders.schedule import ReminderSchedule


@dataclass
class SweepResult:
    """Counts of reminders (one per invoice, contact and step): ``sent``, ``skipped``, ``failed``,
    ``postponed``; and of DMs (one per contact and step, covering one or more invoices):
    ``messages`` sent, ``messages_skipped``, ``messages_failed``."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    postponed: int = 0
    messages: int = 0
    thanked: int = 0
    escalated: int = 0
    notes: list[str] = field(default_factory=list)
    messages_skipped: int = 0
    messages_failed: int = 0
    # DMs left to another process sending in the person's workspace (not sent, skipped or failed here).
    messages_elsewhere: int = 0

    def summary(self) -> str:
        """The contract's line, counting DMs: ``sent N, skipped N, failed N``."""
        return f"sent {self.messages}, skipped {self.messages_skipped}, failed {self.messages_failed}"

    def reminders_summary(self) -> str:
        """The same counts for the reminders those DMs covered."""
        return (
            f"reminders (one per invoice, contact and step): sent {self.sent}, skipped {self.skipped}, "
            f"failed {self.failed}, postponed {self.postponed}"
        )


CHUNK = 200  # DMs planned, looked up, claimed and recorded together
PER_PERSON_GAP = 1.0  # seconds between two DMs to one person (chat platforms pace each conversation)


@dataclass
class _Pending:
    group: ReminderGroup
    contact: ChatContact | None = None
    not_before: float = 0.0


T = TypeVar("T")
R = TypeVar("R")
_Send = tuple[_Pending, list[tuple[int, DueReminder]], ReminderMessage]


class DeliveryPass:
    """Delivers every due reminder once; see the module docstring for rate limits.

    People are taken ``chunk`` DMs at a time (a round): their places read together
    (``Pipelining.prepare``), found, then the DMs due within working hours claimed in one
    transaction and sent; what became of them is recorded in one transaction once the next round
    is claimed (its people are found while these DMs go out). A sender that allows it
    (``Pipelining.concurrent_sends``) finds and sends on that many threads at once, each chat
    workspace's calls still one at a time in the sender; a claim is always written before its DM
    is sent.
    """

    def __init__(
        self,
        *,
        db: Database,
        sender: ReminderSender,
        schedule: ReminderSchedule,
        window: PlanWindow,
        result: SweepResult,
        final_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        chunk: int = CHUNK,
    ) -> None:
        self._db = db
        self._sender = sender
        self._schedule = schedule
        self._window = window
        self._result = result
        self._final_wait = final_wait
        self._sleep = sleep
        self._monotonic = monotonic
        self._chunk = max(1, chunk)
        self._waiting: list[_Pending] = []
        self._found: dict[str, ChatContact | None] = {}  # this pass's people, by e-mail
        self._threads = sender.concurrent_sends if isinstance(sender, Pipelining) else 1
        self._pool: Pool | None = None
        # The last round's sends still under way: recorded (_settle) once the next round is claimed.
        self._in_flight: tuple[list[_Send], list[Callable[[], PostedMessage | BaseException]]] | None = None

    def run(self) -> None:
        batch = self._sender.batch() if isinstance(self._sender, Batching) else nullcontext()
        with batch, ExitStack() as stack:
            if self._threads > 1 and isinstance(self._sender, Pipelining):
                self._pool = stack.enter_context(self._sender.pool())
            try:
                self._rounds()
            finally:
                self._settle()  # what went out is recorded, even when the pass stops on an error
        for pending in self._waiting:
            self._result.postponed += pending.group.size
        if self._waiting:
            self._result.notes.append(f"{len(self._waiting)} DM(s) rate limited, left for the next sweep")
        if self._result.messages_elsewhere:
            self._result.notes.append(
                f"{self._result.messages_elsewhere} DM(s) left to another process sending in their workspace"
            )

    def _rounds(self) -> None:
        chunk: list[_Pending] = []
        for group in iter_groups(self._db, self._schedule, self._window):
            chunk.append(_Pending(group))
            if len(chunk) >= self._chunk:
                self._deliver(chunk + self._ready())
                chunk = []
        self._deliver(chunk + self._ready())
        self._settle()
        deadline = self._monotonic() + self._final_wait
        while self._waiting:
            self._waiting.sort(key=lambda pending: pending.not_before)
            wait = self._waiting[0].not_before - self._monotonic()
            if self._monotonic() + max(wait, 0.0) > deadline:
                break
            if wait > 0:
                self._sleep(wait)
            self._deliver([self._waiting.pop(0), *self._ready()])
            self._settle()

    def _ready(self) -> list[_Pending]:
        """The set-aside DMs whose wait is over, taken off the waiting list."""
        now = self._monotonic()
        ready = [pending for pending in self._waiting if pending.not_before <= now]
        if ready:
            self._waiting = [pending for pending in self._waiting if pending.not_before > now]
        return ready

    def _deliver(self, pendings: list[_Pending]) -> None:
        if not pendings:
            return
        due: list[_Pending] = []
        people: set[tuple[str, str]] = set()
        for pending in self._find(pendings):
            assert pending.contact is not None
            if not within_business_hours(self._window.now, zone_or_utc(pending.contact.timezone)):
                self._result.postponed += pending.group.size
            elif (pending.contact.workspace, pending.contact.user_id) in people:
                # One DM per person a round: a DM takes one message a second, so their next one (a
                # later step) waits for a later round instead of being claimed and given back.
                pending.not_before = self._monotonic() + PER_PERSON_GAP
                self._waiting.append(pending)
            else:
                people.add((pending.contact.workspace, pending.contact.user_id))
                due.append(pending)
        if not due:
            self._settle()
            return
        unconfirmed: set[int] = set()  # taken over while an earlier attempt may have posted them
        claimed = claims.claim_many(
            self._db, [pending.group.reminders for pending in due], self._window, unconfirmed=unconfirmed
        )
        sends = [
            (pending, won, self._message(pending, won, unconfirmed))
            for pending, won in zip(due, claimed, strict=True)
            if won
        ]
        self._settle()  # the previous round's sends, which went on while this round was found and claimed
        self._in_flight = (sends, self._start(lambda send: self._tell(send[0], send[2]), sends))

    def _settle(self) -> None:
        """Wait for the sends under way and record what became of them in one transaction."""
        if self._in_flight is None:
            return
        sends, results = self._in_flight
        self._in_flight = None
        outcomes = [result() for result in results]
        sent: list[claims.Sent] = []
        released: list[tuple[list[int], str]] = []
        failed: list[tuple[list[int], str]] = []
        introduced: list[int] = []
        unexpected: BaseException | None = None
        for (pending, won, message), outcome in zip(sends, outcomes, strict=True):
            ids = [i for i, _ in won]
            # Not sent here, and perhaps posted by this attempt or an earlier one: its retry looks first.
            mark = claims.UNCONFIRMED if message.unconfirmed or isinstance(outcome, ChatDeliveryUnconfirmed) else ""
            if isinstance(outcome, PostedMessage):
                sent.append(claims.Sent(ids, outcome.channel, outcome.ts, outcome.workspace, message.withheld))
                if message.introduce:
                    introduced.extend(r.contact_id for _, r in won)
                self._result.sent += len(won)
                self._result.messages += 1
            elif isinstance(outcome, ChatHandledElsewhere):
                released.append((ids, mark + "another process sends in this workspace"))
                self._result.messages_elsewhere += 1
            elif isinstance(outcome, ChatRateLimited):
                released.append((ids, mark + "rate limited; retried later"))
                pending.not_before = self._monotonic() + outcome.retry_after
                self._waiting.append(pending)
            elif isinstance(outcome, ChatDeliveryFailed):
                failed.append((ids, mark + str(outcome)))
                self._result.failed += len(won)
                self._result.messages_failed += 1
            else:  # not known whether it went out: its claims stay, as after a crash
                unexpected = unexpected or outcome
        if sent or released or failed:
            claims.record_outcomes(
                self._db, at=self._window.now, sent=sent, released=released, failed=failed, introduced=introduced
            )
        if unexpected is not None:
            raise unexpected

    def _find(self, pendings: list[_Pending]) -> list[_Pending]:
        """Find each person (once a pass); the DMs of people found, the others counted or set aside."""
        unknown = list(
            dict.fromkeys(
                pending.group.email
                for pending in pendings
                if pending.contact is None and pending.group.email not in self._found
            )
        )
        if unknown and isinstance(self._sender, Pipelining):
            self._sender.prepare(unknown)
        outcomes = dict(zip(unknown, self._map(self._sender.find_contact, unknown), strict=True))
        for outcome in outcomes.values():
            if isinstance(outcome, BaseException) and not isinstance(outcome, (ChatRateLimited, ChatDeliveryFailed)):
                raise outcome
        for email, outcome in outcomes.items():
            if not isinstance(outcome, BaseException):
                self._found[email] = outcome
        found: list[_Pending] = []
        missing: list[_Pending] = []
        for pending in pendings:
            if pending.contact is not None:
                found.append(pending)
                continue
            outcome = outcomes.get(pending.group.email, self._found.get(pending.group.email))
            if isinstance(outcome, ChatHandledElsewhere):
                self._result.messages_elsewhere += 1
            elif isinstance(outcome, ChatRateLimited):
                pending.not_before = self._monotonic() + outcome.retry_after
                self._waiting.append(pending)
            elif isinstance(outcome, ChatDeliveryFailed):
                self._result.failed += len(pending.group.reminders)
                self._result.messages_failed += 1
            elif outcome is None:
                missing.append(pending)
            else:
                assert isinstance(outcome, ChatContact)
                pending.contact = outcome
                found.append(pending)
        if missing:
            skipped = claims.record_skipped_many(
                self._db, [pending.group.reminders for pending in missing], at=self._window.now,
                reason="not in the workspace",
            )  # fmt: skip
            for count in skipped:
                self._result.skipped += count
                self._result.messages_skipped += 1 if count else 0
        return found

    def _message(
        self, pending: _Pending, claimed: list[tuple[int, DueReminder]], unconfirmed: set[int]
    ) -> ReminderMessage:
        assert pending.contact is not None
        ids = tuple(i for i, _ in claimed)
        return ReminderMessage(
            pending.group.step,
            pending.group.contact_name,
            tuple(r.line for _, r in claimed),
            withheld=pending.contact.needs_proof,
            today=self._window.today,
            introduce=any(r.introduce for _, r in claimed),
            deliveries=ids,
            unconfirmed=any(i in unconfirmed for i in ids),
        )

    def _tell(self, pending: _Pending, message: ReminderMessage) -> PostedMessage:
        assert pending.contact is not None
        return self._sender.tell(pending.contact, message)

    def _map(self, call: Callable[[T], R], items: list[T]) -> list[R | BaseException]:
        """``call`` on each item, on the pool's threads when there is one; an error is its item's outcome."""
        return [result() for result in self._start(call, items)]

    def _start(self, call: Callable[[T], R], items: list[T]) -> list[Callable[[], R | BaseException]]:
        """``call`` on each item, started on the pool's threads when there is one (else done now); each
        item's outcome (its result or error) when asked for."""
        pool = self._pool
        if pool is None:
            done = [_outcome(call, item) for item in items]
            return [lambda outcome=outcome: outcome for outcome in done]  # type: ignore[misc]
        sender = self._sender

        def in_sweep(item: T) -> R | BaseException:
            # A pool thread sends for the sweep: the sender's batch() marks it so (workspace leases).
            with sender.batch() if isinstance(sender, Batching) else nullcontext():
                return _outcome(call, item)

        return [pool.start(partial(in_sweep, item)) for item in items]


def _outcome(call: Callable[[T], R], item: T) -> R | BaseException:
    try:
        return call(item)
    except Exception as error:
        return error
