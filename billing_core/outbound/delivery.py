"""The outbound outbox: delivers recorded events (webhooks, receipt e-mails) and retries them.

Each event is claimed through the shared lease (``billing_core.outbox_leases``) before it is sent,
so several threads and processes can run this at once; a process killed mid-send leaves a
``sending`` row that is taken over when its lease runs out. Failed attempts are retried with
exponential backoff and jitter, under the same event id, until ``give_up_after`` (72 hours) has
passed since the happening; then the event is ``failed``: counted in ``/metrics``, listed in
``/healthz`` and logged.

A delivery loop (``start``; it runs on the ``billing_core.background`` port, as do the per-channel
lanes) sends events as soon as their transaction commits (it is woken by
``billing_core.outbound.events``) and polls every few seconds for retries and for events that
other processes recorded, so nothing depends on the scheduler.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy import update

from billing_core.background import Background
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord
from billing_core.outbox_leases import LeasedRows, doubling_delay
from billing_core.tallies import Tally

log = logging.getLogger(__name__)

DELIVERIES = Tally(
    "billing_outbound_deliveries_total",
    "Outbound event delivery attempts by channel and outcome (delivered, retry, failed).",
    ("channel", "outcome"),
)

LEASED = LeasedRows(
    OutboundEventRecord.id,
    OutboundEventRecord.status,
    OutboundEventRecord.attempts,
    OutboundEventRecord.next_attempt_at,
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one try went: ``ok``, or the HTTP status / error to retry on."""

    ok: bool
    status: int | None = None
    error: str | None = None
    permanent: bool = False


class Channel(Protocol):
    """Where events of one channel go (the vendor's webhook endpoint, the payer's mailbox)."""

    channel: str
    concurrency: int

    def send(self, event_id: str, event_type: str, body: str, now: int) -> Attempt:
        """Try once; never raise for a delivery problem."""
        ...


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    base_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=72)
    # Longer than one attempt can take (connect 5 s + read 10 s): a live sender is never overtaken.
    lease: timedelta = timedelta(seconds=30)

    def delay(self, attempts: int) -> timedelta:
        """10 s, 20 s, 40 s, ... up to an hour, each scaled by a random 50-100% (full jitter's gentler cousin)."""
        return doubling_delay(self.base_delay, self.max_delay, attempts) * random.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


class OutboundDelivery:
    """Sends due outbound events through their channels; safe to run from several processes."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        background: Background,
        channels: Iterable[Channel],
        policy: BackoffPolicy | None = None,
        poll_seconds: float = 3.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self.channels = {channel.channel: channel for channel in channels}
        self.policy = policy or BackoffPolicy()
        # Per endpoint, at most ``concurrency`` requests in flight from this process.
        self._lanes = background.lanes(
            "outbound", {name: channel.concurrency for name, channel in self.channels.items()}
        )
        self._loop = background.loop("outbound-delivery", self._pass, poll_seconds)

    # -- the delivery loop -------------------------------------------------------------

    def start(self) -> None:
        """Run the delivery loop (idempotent)."""
        if self.channels:
            self._loop.start()

    def wake(self) -> None:
        """Something was committed: deliver now rather than at the next poll."""
        self._loop.wake()

    def stop(self, timeout: float = 5.0) -> None:
        self._loop.stop(timeout)
        self._lanes.close()

    def _pass(self) -> None:
        try:
            self.deliver_due()
        except Exception:  # the database may be away for a moment; the rows are safe
            log.exception("outbound delivery pass failed")

    # -- one pass ----------------------------------------------------------------------

    def deliver_due(self, now: datetime | None = None, *, limit: int = 200) -> DeliveryCounts:
        """Try every event that is due now, each channel's in parallel up to its bound."""
        now = now or self._clock.now()
        with self._db.read() as session:
            due = LEASED.due(
                session,
                now,
                columns=(OutboundEventRecord.channel,),
                where=(OutboundEventRecord.channel.in_(list(self.channels)),),
                order_by=(OutboundEventRecord.next_attempt_at, OutboundEventRecord.created_at),
                limit=limit,
            )
        outcomes = self._lanes.run([(channel, partial(self.deliver, event_id, now)) for event_id, channel in due])
        return DeliveryCounts(
            delivered=outcomes.count("delivered"), retried=outcomes.count("retry"), failed=outcomes.count("failed")
        )

    def deliver(self, event_id: str, now: datetime | None = None) -> str | None:
        """One attempt at one event: ``delivered``, ``retry``, ``failed``, or None when not ours now."""
        now = now or self._clock.now()
        with self._db.transaction() as session:
            attempt = LEASED.claim(session, event_id, now, self.policy.lease)
            if attempt is None:
                return None
            record = session.get(OutboundEventRecord, event_id)
            assert record is not None
            channel_name, event_type, body, created_at = record.channel, record.type, record.body, record.created_at
        channel = self.channels.get(channel_name)
        if channel is None:
            return None
        # The signature's timestamp is the wall clock's: the receiver checks it against its own.
        try:
            result = channel.send(event_id, event_type, body, int(time.time()))
        except Exception as error:  # a channel must not raise; if one does, the row must not stay "sending"
            log.exception("outbound event %s (%s) raised while being sent", event_id, channel_name)
            result = Attempt(ok=False, error=f"{type(error).__name__}: {error}"[:500])
        return self._record(event_id, channel_name, attempt, result, created_at)

    def _record(self, event_id: str, channel: str, attempt: int, result: Attempt, created_at: datetime) -> str:
        now = self._clock.now()
        if result.ok:
            values: dict[str, Any] = {
                "status": "delivered",
                "delivered_at": now,
                "next_attempt_at": None,
                "last_status": result.status,
                "last_error": None,
            }
            outcome = "delivered"
        elif result.permanent or now - created_at >= self.policy.give_up_after:
            values = {
                "status": "failed",
                "next_attempt_at": None,
                "last_status": result.status,
                "last_error": result.error,
            }
            outcome = "failed"
        else:
            retry_at = min(now + self.policy.delay(attempt), created_at + self.policy.give_up_after)
            values = {
                "status": "queued",
                "next_attempt_at": retry_at,
                "last_status": result.status,
                "last_error": result.error,
            }
            outcome = "retry"
        with self._db.transaction() as session:
            if not LEASED.finish(session, event_id, attempt, values):
                log.warning("outbound event %s was taken over while attempt %d ran", event_id, attempt)
                return "retry"
        DELIVERIES.labels(channel, outcome).inc()
        if outcome == "delivered":
            log.info("outbound event %s delivered (%s, attempt %d)", event_id, channel, attempt)
        elif outcome == "failed":
            log.error(
                "outbound event %s (%s) failed for good after %d attempt(s): %s",
                event_id,
                channel,
                attempt,
                result.error,
            )
        else:
            log.warning(
                "outbound event %s (%s) attempt %d failed, retrying at %s: %s",
                event_id,
                channel,
                attempt,
                values["next_attempt_at"].isoformat(),
                result.error,
            )
        return outcome

    # -- operators ---------------------------------------------------------------------

    def retry(self, *, event_id: str | None = None, failed: bool = False) -> int:
        """Make events due again now (one by id, or every failed one); how many were re-queued."""
        now = self._clock.now()
        statement = update(OutboundEventRecord).values(status="queued", next_attempt_at=now)
        if event_id is not None:
            statement = statement.where(
                OutboundEventRecord.id == event_id, OutboundEventRecord.status.in_(("failed", "queued", "delivered"))
            )
        elif failed:
            statement = statement.where(OutboundEventRecord.status == "failed")
        else:
            return 0
        with self._db.transaction() as session:
            result = session.execute(statement.execution_options(synchronize_session=False))
            count = int(getattr(result, "rowcount", 0))
        if count:
            self.wake()
        return count

    def health(self) -> dict[str, Any]:
        """For ``/healthz``: queue depth and permanent failures (``ok`` is False when any failed)."""
        with self._db.read() as session:
            counts = LEASED.counts(session, newest_first=OutboundEventRecord.created_at.desc())
        rows, failed, failed_ids = counts.by_status, counts.failed, counts.failed_keys
        return {
            "ok": failed == 0,
            "channels": sorted(self.channels),
            "queued": rows.get("queued", 0) + rows.get("sending", 0),
            "delivered": rows.get("delivered", 0),
            "failed": failed,
            "failed_events": list(failed_ids),
        }
