"""The escalation outbox: e-mails stored escalations to billing support, and posts them to the
staff channel when one is configured.

Exactly once, as far as a mail server allows: a row is claimed with a compare-and-set UPDATE
(``queued`` -> ``sending``, ``attempts + 1``) before anything is sent, and the outcome is written
back only if the row is still ours (same ``attempts``). A claim is a lease: a worker that died
mid-send leaves a ``sending`` row that is taken over once ``next_attempt_at`` has passed. That
is the one case that can send twice, and the stable Message-ID lets the mail system drop the copy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update

from billing_core.background import Background
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import EscalationRecord
from billing_core.escalations.details import (
    PrincipalDescriber,
    escalation_detail,
    escalation_view,
)
from billing_core.escalations.email_message import build_escalation_email
from billing_core.escalations.thread_mail import ThreadMail
from billing_core.escalations.views import EscalationView, format_reference
from billing_core.mail import MailDeliveryError, Mailer
from billing_core.outbox_leases import LeasedRows, doubling_delay
from billing_core.tallies import Level, Tally

log = logging.getLogger(__name__)

LEASED = LeasedRows(
    EscalationRecord.id, EscalationRecord.delivery_status, EscalationRecord.attempts, EscalationRecord.next_attempt_at
)

EMAILS = Tally(
    "billing_escalation_emails_total",
    "Escalation e-mail delivery attempts by outcome (sent, retry, failed).",
    ("outcome",),
)
FAILED = Level("billing_escalation_emails_failed", "Escalations whose e-mail permanently failed.")
QUEUED = Level("billing_escalation_emails_queued", "Escalations waiting for their e-mail to go out.")
STAFF_POSTS = Tally(
    "billing_escalation_staff_posts_total", "Escalations posted to the staff channel by outcome.", ("outcome",)
)


class StaffChannel(Protocol):
    """Where billing staff see new escalations (the Slack layer implements it)."""

    def post(self, channel: str, escalation: EscalationView) -> str:
        """Post ``escalation`` to ``channel``; return the message's id (Slack: its ``ts``)."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    posted: int = 0

    def __add__(self, other: DeliveryCounts) -> DeliveryCounts:
        return DeliveryCounts(
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.posted + other.posted,
        )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=10)

    def delay(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, ... capped at ``max_delay``."""
        return doubling_delay(self.base_delay, self.max_delay, attempts)


class EscalationOutbox:
    """Delivers queued escalations; safe to run from several threads and processes at once."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        background: Background,
        mailer: Mailer | None,
        sender: str,
        recipient: str,
        today: Callable[[], date],
        describe_principal: PrincipalDescriber = str,
        support_channel: str | None = None,
        staff_channel: StaffChannel | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._background = background
        self._mailer = mailer
        self._sender = sender
        self._recipient = recipient
        self._domain = sender.rpartition("@")[2] or "localhost"
        self._today = today
        self._describe = describe_principal
        self.support_channel = support_channel or None
        # Posts escalations in ``support_channel`` (the Slack modes and operator commands).
        self.staff_channel = staff_channel if self.support_channel else None
        self.policy = policy or RetryPolicy()
        self._mailer_missing_logged = False
        # The support threads' messages, each e-mailed as a reply to the request's e-mail.
        self.thread_mail = ThreadMail(
            db=db,
            clock=clock,
            mailer=mailer,
            sender=sender,
            recipient=recipient,
            max_attempts=self.policy.max_attempts,
            base_delay_seconds=self.policy.base_delay.total_seconds(),
            lease_seconds=self.policy.lease.total_seconds(),
        )

    # -- entry points ------------------------------------------------------------------

    def deliver_due(self, now: datetime | None = None, *, limit: int = 100) -> DeliveryCounts:
        """Send every escalation whose e-mail is due, and post new ones to the staff channel."""
        now = now or self._clock.now()
        with self._db.read() as session:
            due = [
                row[0]
                for row in LEASED.due(
                    session, now, order_by=(EscalationRecord.next_attempt_at, EscalationRecord.id), limit=limit
                )
            ]
        counts = DeliveryCounts()
        for escalation_id in due:
            counts += self._send_email(escalation_id, now)
        counts += self._post_unposted(now)
        counts += DeliveryCounts(sent=self.thread_mail.deliver_due(now))
        self._refresh_gauges()
        return counts

    def deliver(self, escalation_id: int, now: datetime | None = None) -> DeliveryCounts:
        """Try one escalation now (right after it was stored). A no-op if another worker has it."""
        now = now or self._clock.now()
        counts = self._send_email(escalation_id, now) + self._post_one(escalation_id)
        self._refresh_gauges()
        return counts

    def deliver_soon(self, escalation_id: int) -> None:
        """Deliver in the background, so a request thread never waits for SMTP."""
        self._background.submit(f"escalation-{escalation_id}", lambda: self._deliver_quietly(escalation_id))

    def deliver_thread_message_soon(self, message_id: int) -> None:
        """E-mail a support-thread message in the background (the sweep retries it if need be)."""
        self._background.submit(f"escalation-message-{message_id}", lambda: self._thread_mail_quietly(message_id))

    def _thread_mail_quietly(self, message_id: int) -> None:
        try:
            self.thread_mail.deliver(message_id)
        except Exception:  # the row stays queued; the sweep sends it
            log.exception("immediate e-mail of thread message %d failed", message_id)

    def wait_for_deliveries(self, timeout: float = 10.0) -> None:
        """Wait (at most ``timeout`` seconds) for the deliveries ``deliver_soon`` started (the console
        shows their outcome before its next prompt)."""
        self._background.wait(timeout)

    def health(self) -> dict[str, Any]:
        """For ``/healthz``: queue depth and permanent failures (``ok`` is False when any failed)."""
        with self._db.read() as session:
            counts = LEASED.counts(session, newest_first=EscalationRecord.id.desc())
        failed, pending, failed_refs = counts.failed, counts.pending, counts.failed_keys
        FAILED.set(failed)
        QUEUED.set(pending)
        return {
            "ok": failed == 0,
            "mail_configured": self._mailer is not None,
            "queued": pending,
            "failed": failed,
            "failed_references": [format_reference(i) for i in failed_refs],
        }

    # -- e-mail ------------------------------------------------------------------------

    def _deliver_quietly(self, escalation_id: int) -> None:
        try:
            self.deliver(escalation_id)
        except Exception:  # the sweep will pick it up; the row is safe in the database
            log.exception("immediate delivery of %s failed", format_reference(escalation_id))

    def _send_email(self, escalation_id: int, now: datetime) -> DeliveryCounts:
        if self._mailer is None:
            if not self._mailer_missing_logged:
                log.warning("SMTP_URL is not set: escalations stay queued until it is")
                self._mailer_missing_logged = True
            return DeliveryCounts()
        attempt = self._claim(escalation_id, now)
        if attempt is None:
            return DeliveryCounts()
        reference = format_reference(escalation_id)
        with self._db.read() as session:
            record = session.get(EscalationRecord, escalation_id)
            assert record is not None
            detail = escalation_detail(session, record, today=self._today(), describe_principal=self._describe)
        message = build_escalation_email(detail, sender=self._sender, recipient=self._recipient, domain=self._domain)
        try:
            self._mailer.send(message)
        except MailDeliveryError as error:
            return self._record_failure(escalation_id, attempt, str(error), permanent=error.permanent)
        self._finish(
            escalation_id,
            attempt,
            delivery_status="sent",
            sent_at=self._clock.now(),
            next_attempt_at=None,
            last_error=None,
        )
        EMAILS.labels("sent").inc()
        log.info("escalation %s e-mailed to support (attempt %d)", reference, attempt)
        return DeliveryCounts(sent=1)

    def _claim(self, escalation_id: int, now: datetime) -> int | None:
        """Take the row for one attempt; the new ``attempts`` value is the fencing token."""
        with self._db.transaction() as session:
            return LEASED.claim(session, escalation_id, now, self.policy.lease)

    def _record_failure(self, escalation_id: int, attempt: int, error: str, *, permanent: bool) -> DeliveryCounts:
        reference = format_reference(escalation_id)
        now = self._clock.now()
        if permanent or attempt >= self.policy.max_attempts:
            self._finish(
                escalation_id, attempt, delivery_status="failed", next_attempt_at=None, last_error=error[:2000]
            )
            EMAILS.labels("failed").inc()
            log.error(
                "escalation %s could not be e-mailed to support after %d attempt(s), giving up: %s",
                reference,
                attempt,
                error,
            )
            return DeliveryCounts(failed=1)
        retry_at = now + self.policy.delay(attempt)
        self._finish(
            escalation_id, attempt, delivery_status="queued", next_attempt_at=retry_at, last_error=error[:2000]
        )
        EMAILS.labels("retry").inc()
        log.warning(
            "escalation %s e-mail attempt %d failed, retrying at %s: %s",
            reference,
            attempt,
            retry_at.isoformat(),
            error,
        )
        return DeliveryCounts(retried=1)

    def _finish(self, escalation_id: int, attempt: int, **values: Any) -> None:
        with self._db.transaction() as session:
            if not LEASED.finish(session, escalation_id, attempt, values):
                log.warning(
                    "escalation %s was taken over while attempt %d ran", format_reference(escalation_id), attempt
                )

    def _refresh_gauges(self) -> None:
        try:
            self.health()
        except Exception:  # gauges are best effort; the database error shows in /healthz itself
            log.debug("could not refresh escalation gauges", exc_info=True)

    # -- staff channel -----------------------------------------------------------------

    def _post_unposted(self, now: datetime) -> DeliveryCounts:
        if self.staff_channel is None or self.support_channel is None:
            return DeliveryCounts()
        with self._db.read() as session:
            # A day's window: a channel configured later does not replay the whole history.
            ids = session.scalars(
                select(EscalationRecord.id)
                .where(EscalationRecord.slack_channel.is_(None), EscalationRecord.created_at >= now - timedelta(days=1))
                .order_by(EscalationRecord.id)
                .limit(50)
            ).all()
        counts = DeliveryCounts()
        for escalation_id in ids:
            counts += self._post_one(escalation_id)
        return counts

    def _post_one(self, escalation_id: int) -> DeliveryCounts:
        channel, poster = self.support_channel, self.staff_channel
        if channel is None or poster is None:
            return DeliveryCounts()
        with self._db.transaction() as session:
            claimed = session.execute(
                update(EscalationRecord)
                .where(EscalationRecord.id == escalation_id, EscalationRecord.slack_channel.is_(None))
                .values(slack_channel=channel)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return DeliveryCounts()
            record = session.get(EscalationRecord, escalation_id)
            assert record is not None
            view = escalation_view(session, record)
        try:
            ts = poster.post(channel, view)
        except Exception as error:
            with self._db.transaction() as session:  # release the claim: the next sweep tries again
                session.execute(
                    update(EscalationRecord)
                    .where(EscalationRecord.id == escalation_id, EscalationRecord.slack_ts.is_(None))
                    .values(slack_channel=None)
                    .execution_options(synchronize_session=False)
                )
            STAFF_POSTS.labels("failed").inc()
            log.warning("posting %s to the support channel failed: %s", view.reference, type(error).__name__)
            return DeliveryCounts()
        with self._db.transaction() as session:
            session.execute(
                update(EscalationRecord)
                .where(EscalationRecord.id == escalation_id)
                .values(slack_ts=ts)
                .execution_options(synchronize_session=False)
            )
        STAFF_POSTS.labels("posted").inc()
        return DeliveryCounts(posted=1)
