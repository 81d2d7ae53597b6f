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
from dataclasses import dataclass, field

from billing_core.business_hours import within_business_hours, zone_or_utc
from billing_core.db.database import Database
from billing_core.errors import ChatDeliveryFailed, ChatHandledElsewhere, ChatRateLimited
from billing_core.messaging import ChatContact
from billing_core.reminders import claims
from billing_core.reminders.messages import ReminderMessage, ReminderSender
from billing_core.reminders.plan import (
    DueReminder,
    PlanWindow,
    ReminderGroup,
    iter_groups,
)
from billing_core.reminders.preferences import mark_introduced
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


@dataclass
class _Pending:
    group: ReminderGroup
    contact: ChatContact | None = None
    not_before: float = 0.0


class DeliveryPass:
    """Delivers every due reminder once; see the module docstring for rate limits."""

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
    ) -> None:
        self._db = db
        self._sender = sender
        self._schedule = schedule
        self._window = window
        self._result = result
        self._final_wait = final_wait
        self._sleep = sleep
        self._monotonic = monotonic
        self._waiting: list[_Pending] = []

    def run(self) -> None:
        for group in iter_groups(self._db, self._schedule, self._window):
            self._attempt(_Pending(group))
            self._retry_ready()
        deadline = self._monotonic() + self._final_wait
        while self._waiting:
            self._waiting.sort(key=lambda pending: pending.not_before)
            wait = self._waiting[0].not_before - self._monotonic()
            if self._monotonic() + max(wait, 0.0) > deadline:
                break
            if wait > 0:
                self._sleep(wait)
            self._attempt(self._waiting.pop(0))
        for pending in self._waiting:
            self._result.postponed += pending.group.size
        if self._waiting:
            self._result.notes.append(f"{len(self._waiting)} DM(s) rate limited, left for the next sweep")
        if self._result.messages_elsewhere:
            self._result.notes.append(
                f"{self._result.messages_elsewhere} DM(s) left to another process sending in their workspace"
            )

    def _retry_ready(self) -> None:
        now = self._monotonic()
        ready = [pending for pending in self._waiting if pending.not_before <= now]
        for pending in ready:
            self._waiting.remove(pending)
            self._attempt(pending)

    def _attempt(self, pending: _Pending) -> None:
        group = pending.group
        claimed: list[tuple[int, DueReminder]] = []
        try:
            if pending.contact is None:
                pending.contact = self._sender.find_contact(group.email)
                if pending.contact is None:
                    skipped = claims.record_skipped(
                        self._db, group.reminders, at=self._window.now, reason="not in the workspace"
                    )
                    self._result.skipped += skipped
                    self._result.messages_skipped += 1 if skipped else 0
                    return
            if not within_business_hours(self._window.now, zone_or_utc(pending.contact.timezone)):
                self._result.postponed += group.size
                return
            claimed = claims.claim(self._db, group.reminders, self._window)
            if not claimed:
                return
            message = ReminderMessage(
                group.step,
                group.contact_name,
                tuple(r.line for _, r in claimed),
                withheld=pending.contact.needs_proof,
                today=self._window.today,
                introduce=any(r.introduce for _, r in claimed),
            )
            posted = self._sender.tell(pending.contact, message)
        except ChatHandledElsewhere:
            if claimed:
                claims.release(self._db, [i for i, _ in claimed], "another process sends in this workspace")
            self._result.messages_elsewhere += 1
            return
        except ChatRateLimited as limited:
            if claimed:
                claims.release(self._db, [i for i, _ in claimed], "rate limited; retried later")
            pending.not_before = self._monotonic() + limited.retry_after
            self._waiting.append(pending)
            return
        except ChatDeliveryFailed as error:
            if claimed:
                claims.mark_failed(self._db, [i for i, _ in claimed], str(error))
            self._result.failed += len(claimed) or len(group.reminders)
            self._result.messages_failed += 1
            return
        claims.mark_sent(
            self._db,
            [i for i, _ in claimed],
            at=self._window.now,
            channel=posted.channel,
            ts=posted.ts,
            workspace=posted.workspace,
            withheld=message.withheld,
        )
        if message.introduce:
            with self._db.transaction() as session:
                mark_introduced(session, (r.contact_id for _, r in claimed), self._window.now)
        self._result.sent += len(claimed)
        self._result.messages += 1
