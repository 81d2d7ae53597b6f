"""Support-thread messages e-mailed to billing support, one follow-up per message.

Teams that work by e-mail see the thread where they read the request: each message relayed in
Slack (staff's and the requester's) goes to ``SUPPORT_EMAIL`` as a reply to the request's own
e-mail: the same subject with ``Re:``, ``In-Reply-To`` and ``References`` naming the request's
Message-ID, so mail clients thread it under the request. One message per e-mail (rather than the
whole thread re-sent each time): nothing is repeated, and the order is the thread's.

The rows are an outbox like the request's own e-mail (``outbox_leases``): claimed before sending,
retried with backoff, a stable Message-ID per message so a resend after a crash can be dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import EscalationMessageRecord, EscalationRecord
from billing_core.escalations.details import escalation_view
from billing_core.escalations.email_message import escalation_message_id, safe_display_name
from billing_core.escalations.threads import REQUESTER, ThreadMessage, thread_message
from billing_core.escalations.views import EscalationView
from billing_core.identity.emails import is_valid_email
from billing_core.identity.principal import describe_principal
from billing_core.mail import MailDeliveryError, Mailer
from billing_core.mail_headers import one_line
from billing_core.outbox_leases import LeasedRows, doubling_delay
from billing_core.tallies import Tally

log = logging.getLogger(__name__)

LEASED = LeasedRows(
    EscalationMessageRecord.id,
    EscalationMessageRecord.email_status,
    EscalationMessageRecord.attempts,
    EscalationMessageRecord.next_attempt_at,
)
THREAD_EMAILS = Tally(
    "billing_escalation_thread_emails_total",
    "Support-thread follow-up e-mail attempts by outcome (sent, retry, failed).",
    ("outcome",),
)


def build_thread_email(
    view: EscalationView, message: ThreadMessage, *, sender: str, recipient: str, domain: str
) -> EmailMessage:
    """The follow-up e-mail for one thread message: a reply to the request's e-mail."""
    original = escalation_message_id(view, domain)
    mail = EmailMessage()
    mail["Subject"] = one_line(f"Re: [{view.reference}] {view.topic_label}: {view.account_name}")
    mail["From"] = sender
    mail["To"] = recipient
    if is_valid_email(view.requester_email):
        mail["Reply-To"] = Address(display_name=safe_display_name(view.requester_name), addr_spec=view.requester_email)
    mail["Message-ID"] = f"<{view.reference.lower()}.m{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    mail["In-Reply-To"] = original
    mail["References"] = original
    mail["X-Billing-Escalation"] = view.reference
    mail["X-Billing-Escalation-Message"] = str(message.id)
    mail.set_content(thread_body(view, message))
    return mail


def thread_body(view: EscalationView, message: ThreadMessage) -> str:
    """Plain text; what was typed is quoted line by line so it cannot pose as one of our fields."""
    if message.side == REQUESTER:
        who = f"the requester, {one_line(message.author_name)} <{one_line(view.requester_email)}>"
    else:
        staff = describe_principal(message.author_principal)
        who = f"billing staff, {one_line(staff)} (shown to the customer as {one_line(message.author_name)})"
    lines = [
        f"{view.reference}: a new message in the support thread",
        f"From:  {who}",
        f"At:    {message.created_at:%Y-%m-%d %H:%M} UTC",
        f"State: {view.state_label}",
        "",
    ]
    lines += ["> " + line for line in (message.text or "(no text)").split("\n")]
    if message.links:
        lines += ["", "Files and links"]
        lines += [f"  {one_line(link.name) or 'link'}: {one_line(link.url)}" for link in message.links]
    lines += ["", "The thread continues in Slack; replies to this e-mail go to the requester by e-mail."]
    return "\n".join(lines) + "\n"


class ThreadMail:
    """Sends the queued thread messages' e-mails; safe from several threads and processes at once."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        mailer: Mailer | None,
        sender: str,
        recipient: str,
        max_attempts: int,
        base_delay_seconds: float = 30.0,
        lease_seconds: float = 600.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._mailer = mailer
        self._sender = sender
        self._recipient = recipient
        self._domain = sender.rpartition("@")[2] or "localhost"
        self._max_attempts = max_attempts
        self._base = base_delay_seconds
        self._lease = lease_seconds

    def deliver_due(self, now: datetime, *, limit: int = 100) -> int:
        """Send every due follow-up; the number sent."""
        if self._mailer is None:
            return 0
        with self._db.read() as session:
            due = [
                row[0]
                for row in LEASED.due(
                    session,
                    now,
                    order_by=(EscalationMessageRecord.created_at, EscalationMessageRecord.id),
                    limit=limit,
                )
            ]
        return sum(self.deliver(message_id, now) for message_id in due)

    def deliver(self, message_id: int, now: datetime | None = None) -> int:
        """Try one follow-up now; 1 when it was sent."""
        if self._mailer is None:
            return 0
        now = now or self._clock.now()
        with self._db.transaction() as session:
            attempt = LEASED.claim(session, message_id, now, timedelta(seconds=self._lease))
        if attempt is None:
            return 0
        with self._db.read() as session:
            row = session.get(EscalationMessageRecord, message_id)
            record = session.get(EscalationRecord, row.escalation_id) if row is not None else None
            assert row is not None and record is not None
            view, message = escalation_view(session, record), thread_message(row)
        mail = build_thread_email(view, message, sender=self._sender, recipient=self._recipient, domain=self._domain)
        try:
            self._mailer.send(mail)
        except MailDeliveryError as error:
            last = error.permanent or attempt >= self._max_attempts
            retry = now + doubling_delay(timedelta(seconds=self._base), timedelta(hours=1), attempt)
            self._finish(
                message_id,
                attempt,
                email_status="failed" if last else "queued",
                next_attempt_at=None if last else retry,
                last_error=str(error)[:2000],
            )
            THREAD_EMAILS.labels("failed" if last else "retry").inc()
            log.warning("thread message %d of %s not e-mailed: %s", message_id, view.reference, error)
            return 0
        self._finish(message_id, attempt, email_status="sent", sent_at=self._clock.now(), next_attempt_at=None)
        THREAD_EMAILS.labels("sent").inc()
        log.info("thread message %d of %s e-mailed to support", message_id, view.reference)
        return 1

    def _finish(self, message_id: int, attempt: int, **values: object) -> None:
        with self._db.transaction() as session:
            if not LEASED.finish(session, message_id, attempt, dict(values)):
                log.warning("thread message %d was taken over while attempt %d ran", message_id, attempt)
