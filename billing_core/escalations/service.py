"""Escalations: handing to a person what the bot must not do itself.

An escalation is stored first (``delivery_status='queued'``) and the outbox e-mails it afterwards,
so a mail server that is down delays it but never loses it. Message bodies are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from billing_core.access import require_account, require_invoice
from billing_core.audit import add_audit_event
from billing_core.card_guard import contains_card_number
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord, EscalationRecord, InvoiceRecord
from billing_core.errors import (
    CardNumberInText,
    EscalationAlreadyResolved,
    EscalationMessageEmpty,
    EscalationMessageTooLong,
    EscalationNotFound,
    EscalationRateLimited,
    InvalidEscalation,
    InvoiceNotFound,
    UnknownEscalationTopic,
)
from billing_core.escalations.details import (
    PrincipalDescriber,
    escalation_detail,
    escalation_view,
)
from billing_core.escalations.outbox import EscalationOutbox
from billing_core.escalations.threads import SupportThreads
from billing_core.escalations.views import (
    MAX_MESSAGE_LENGTH,
    USER_TOPICS,
    EscalationDetail,
    EscalationView,
    clean_message,
    format_reference,
    parse_reference,
)
from billing_core.identity.emails import normalize_email
from billing_core.outbound.events import WEBHOOK, record_event
from billing_core.views import Actor

log = logging.getLogger(__name__)

# Requests from people (not the bot's own): per person per hour, per account per day.
MAX_PER_PERSON_PER_HOUR = 5
MAX_PER_ACCOUNT_PER_DAY = 20
SYSTEM_PRINCIPAL = "system:reminders"
SECURITY_PRINCIPAL = "system:security"
PAYMENTS_PRINCIPAL = "system:payments"
ALREADY_PAID_DEFAULT = "The customer reports that this invoice is already paid."
OVERDUE_DEFAULT = "This invoice is still unpaid 30 days after its due date."


def validate_message(text: str | None) -> str:
    """The cleaned message, or ``EscalationMessageEmpty`` / ``EscalationMessageTooLong`` /
    ``CardNumberInText`` (a card number is never stored or e-mailed to support)."""
    message = clean_message(text or "")
    if not message:
        raise EscalationMessageEmpty("empty message")
    if contains_card_number(message):
        raise CardNumberInText("message contains a card number")
    if len(message) > MAX_MESSAGE_LENGTH:
        raise EscalationMessageTooLong(MAX_MESSAGE_LENGTH, len(message))
    return message


class EscalationService:
    """Create, list and resolve escalations; the outbox delivers them."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: EscalationOutbox,
        today: Callable[[], date],
        describe_principal: PrincipalDescriber = str,
        threads: SupportThreads | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.outbox = outbox
        # The two-way threads (staff post <-> requester's DM); their e-mails go through ``outbox``.
        self.threads = threads or SupportThreads(db=db, clock=clock)
        self._today = today
        self._describe = describe_principal

    @property
    def support_channel(self) -> str | None:
        """The staff channel id (``SUPPORT_SLACK_CHANNEL``), if any."""
        return self.outbox.support_channel

    # -- requester side ---------------------------------------------------------------

    def create(
        self,
        actor: Actor,
        account_external_id: str,
        topic: str,
        message: str,
        invoice_number: str | None = None,
        origin: str = "user",
        repeat_window: timedelta | None = None,
    ) -> EscalationView:
        """Store a new escalation from a billing contact of the account and queue its e-mail.

        Refuses (changing nothing) an unknown topic, an empty or too long message, and an account or
        invoice the actor is not a contact of. ``origin`` is ``user`` or ``reminder``. With
        ``repeat_window``, the same open request (person, account, topic, message) made within it is
        returned instead of a second one: a double click on a button that escalates sends one e-mail.
        """
        if topic not in USER_TOPICS:
            raise UnknownEscalationTopic(topic)
        if origin not in ("user", "reminder"):
            raise InvalidEscalation(f"unknown origin {origin!r}")
        text = validate_message(message)
        with self._db.transaction() as session:
            account, invoice = self._target(session, actor, account_external_id, invoice_number)
            self._lock_account(session, account)
            if repeat_window is not None:
                same = self._same_request(session, account, actor, topic, text, repeat_window)
                if same is not None:
                    return escalation_view(session, same)
            self._check_rate(session, account, actor)
            name = self._name(session, actor, account)
            record = self._insert(session, account, invoice, topic, text, origin, actor, name)
            view = escalation_view(session, record)
        self._queued(view)
        return view

    def report_already_paid(
        self, actor: Actor, account_external_id: str, invoice_number: str, message: str = ""
    ) -> EscalationView:
        """Handle "I've already paid" from a reminder. A second click returns the open escalation."""
        if contains_card_number(message):
            raise CardNumberInText("message contains a card number")
        text = clean_message(message)[:MAX_MESSAGE_LENGTH] or ALREADY_PAID_DEFAULT
        with self._db.transaction() as session:
            account, invoice = require_invoice(session, actor, account_external_id, invoice_number)
            # Lock the invoice row before looking for an open report: concurrent clicks of the same
            # button queue here, and each later one finds the first's escalation (one e-mail, not N).
            session.execute(
                update(InvoiceRecord)
                .where(InvoiceRecord.id == invoice.id)
                .values(id=InvoiceRecord.id)
                .execution_options(synchronize_session=False)
            )
            existing = session.scalars(
                select(EscalationRecord).where(
                    EscalationRecord.invoice_id == invoice.id,
                    EscalationRecord.topic == "already_paid",
                    EscalationRecord.requester_principal == actor.principal,
                    EscalationRecord.status == "open",
                )
            ).first()
            if existing is not None:
                return escalation_view(session, existing)
            self._check_rate(session, account, actor)
            name = self._name(session, actor, account)
            record = self._insert(session, account, invoice, "already_paid", text, "reminder", actor, name)
            view = escalation_view(session, record)
        self._queued(view)
        return view

    def escalate_overdue(
        self,
        *,
        invoice_id: int | None = None,
        account_external_id: str | None = None,
        invoice_number: str | None = None,
    ) -> EscalationView | None:
        """System entry point for an invoice unpaid 30 days after due (by id or account/number).

        Idempotent: one overdue escalation per invoice, ever; later calls return it. None when the
        invoice does not exist, is no longer open, or its account has no contact to reply to.
        """
        with self._db.transaction() as session:
            invoice = self._find_invoice(session, invoice_id, account_external_id, invoice_number)
            if invoice is None:
                return None
            existing = session.scalars(
                select(EscalationRecord).where(
                    EscalationRecord.invoice_id == invoice.id, EscalationRecord.origin == "overdue"
                )
            ).first()
            if existing is not None:
                return escalation_view(session, existing)
            if invoice.status != "open":
                return None
            account = session.get(AccountRecord, invoice.account_id)
            contact = session.scalars(
                select(ContactRecord).where(ContactRecord.account_id == invoice.account_id).order_by(ContactRecord.id)
            ).first()
            if account is None or contact is None:
                return None
            system = Actor(email=contact.email, principal=SYSTEM_PRINCIPAL, display_name=contact.name)
            record = self._insert(
                session, account, invoice, "overdue", OVERDUE_DEFAULT, "overdue", system, contact.name
            )
            view = escalation_view(session, record)
        self._queued(view)
        return view

    def raise_security_alert(self, email: str, message: str) -> EscalationView | None:
        """System entry point: billing staff must look at something that concerns the contact ``email``
        (many wrong verification codes, say). Filed on that contact's first account and delivered
        at once; None when ``email`` is no contact."""
        text = validate_message(message)
        with self._db.transaction() as session:
            contact = session.scalars(
                select(ContactRecord).where(ContactRecord.email == normalize_email(email)).order_by(ContactRecord.id)
            ).first()
            account = session.get(AccountRecord, contact.account_id) if contact is not None else None
            if contact is None or account is None:
                return None
            system = Actor(email=contact.email, principal=SECURITY_PRINCIPAL, display_name=contact.name)
            record = self._insert(session, account, None, "security", text, "security", system, contact.name)
            view = escalation_view(session, record)
        self._queued(view)
        self.deliver_soon(view)
        return view

    def raise_payment_alert(self, account_external_id: str, message: str) -> EscalationView | None:
        """System entry point: a payment billing staff must act on (a late success, a double
        payment to refund, a dispute). Filed on the account under its first contact, delivered at
        once (e-mail and the staff channel); None when the account is unknown."""
        text = validate_message(message)
        with self._db.transaction() as session:
            account = session.scalars(
                select(AccountRecord).where(AccountRecord.external_id == account_external_id)
            ).first()
            if account is None:
                return None
            contact = session.scalars(
                select(ContactRecord).where(ContactRecord.account_id == account.id).order_by(ContactRecord.id)
            ).first()
            email, name = (contact.email, contact.name) if contact is not None else ("billing-bot", "billing-bot")
            system = Actor(email=email, principal=PAYMENTS_PRINCIPAL, display_name=name)
            record = self._insert(session, account, None, "payment_alert", text, "payment", system, name)
            view = escalation_view(session, record)
        self._queued(view)
        self.deliver_soon(view)
        return view

    def list_open(self, actor: Actor) -> list[EscalationView]:
        """The actor's open escalations, newest first."""
        with self._db.read() as session:
            records = session.scalars(
                select(EscalationRecord)
                .where(EscalationRecord.requester_principal == actor.principal, EscalationRecord.status == "open")
                .order_by(EscalationRecord.created_at.desc(), EscalationRecord.id.desc())
                .limit(20)
            ).all()
            return [escalation_view(session, record) for record in records]

    # -- staff side -------------------------------------------------------------------

    def get(self, reference: str) -> EscalationView:
        """One escalation by reference, for billing staff (no membership check: staff only)."""
        with self._db.read() as session:
            return escalation_view(session, self._by_reference(session, reference))

    def detail(self, reference: str) -> EscalationDetail:
        """The escalation with the account's situation, as the e-mail shows it."""
        with self._db.read() as session:
            record = self._by_reference(session, reference)
            return escalation_detail(session, record, today=self._today(), describe_principal=self._describe)

    def resolve(self, reference: str, staff_principal: str) -> EscalationView:
        """Mark resolved, once: a second resolve raises ``EscalationAlreadyResolved``."""
        now = self._clock.now()
        with self._db.transaction() as session:
            record = self._by_reference(session, reference)
            result = session.execute(
                update(EscalationRecord)
                .where(EscalationRecord.id == record.id, EscalationRecord.status == "open")
                .values(status="resolved", resolved_at=now, resolved_by=staff_principal, waiting_since=None)
                .execution_options(synchronize_session=False)
            )
            session.refresh(record)
            if getattr(result, "rowcount", 0) != 1:
                raise EscalationAlreadyResolved(format_reference(record.id), record.resolved_by)
            add_audit_event(
                session,
                at=now,
                actor=None,
                account_id=record.account_id,
                action="escalation.resolve",
                target=format_reference(record.id),
                outcome="ok",
                detail={"by": staff_principal},
            )
            view = escalation_view(session, record)
        log.info("escalation %s resolved", view.reference)
        return view

    def health(self) -> dict[str, Any]:
        """Delivery health for ``/healthz``; see ``EscalationOutbox.health``."""
        return self.outbox.health()

    def deliver_soon(self, view: EscalationView) -> None:
        """Try to deliver ``view`` right away, off the caller's thread."""
        self.outbox.deliver_soon(view.id)

    # -- helpers ----------------------------------------------------------------------

    def _target(
        self, session: Session, actor: Actor, account_external_id: str, invoice_number: str | None
    ) -> tuple[AccountRecord, InvoiceRecord | None]:
        if invoice_number:
            return require_invoice(session, actor, account_external_id, invoice_number)
        return require_account(session, actor, account_external_id), None

    @staticmethod
    def _lock_account(session: Session, account: AccountRecord) -> None:
        """Concurrent requests for one account are counted and compared one after another."""
        session.execute(
            update(AccountRecord)
            .where(AccountRecord.id == account.id)
            .values(id=AccountRecord.id)
            .execution_options(synchronize_session=False)
        )

    def _same_request(
        self, session: Session, account: AccountRecord, actor: Actor, topic: str, text: str, window: timedelta
    ) -> EscalationRecord | None:
        return session.scalars(
            select(EscalationRecord)
            .where(
                EscalationRecord.account_id == account.id,
                EscalationRecord.requester_principal == actor.principal,
                EscalationRecord.topic == topic,
                EscalationRecord.message == text,
                EscalationRecord.status == "open",
                EscalationRecord.created_at > self._clock.now() - window,
            )
            .order_by(EscalationRecord.id)
        ).first()

    def _check_rate(self, session: Session, account: AccountRecord, actor: Actor) -> None:
        """``EscalationRateLimited`` past the person's or the account's limit (each request is a
        staff post and an e-mail). The account row is locked first, so concurrent requests count
        one after another."""
        self._lock_account(session, account)
        now = self._clock.now()
        from_people = EscalationRecord.origin.in_(("user", "reminder"))
        person = EscalationRecord.requester_principal == actor.principal
        for where, since, limit in (
            (person, now - timedelta(hours=1), MAX_PER_PERSON_PER_HOUR),
            (EscalationRecord.account_id == account.id, now - timedelta(days=1), MAX_PER_ACCOUNT_PER_DAY),
        ):
            count = session.scalar(
                select(func.count(EscalationRecord.id)).where(where, from_people, EscalationRecord.created_at > since)
            )
            if (count or 0) >= limit:
                log.warning("escalation refused: rate limit for %s on account %s", actor.principal, account.external_id)
                raise EscalationRateLimited(actor.principal)

    def _name(self, session: Session, actor: Actor, account: AccountRecord) -> str:
        contact_name = session.scalar(
            select(ContactRecord.name).where(
                ContactRecord.account_id == account.id, ContactRecord.email == normalize_email(actor.email)
            )
        )
        return (actor.display_name or contact_name or "").strip()[:255]

    def _insert(
        self,
        session: Session,
        account: AccountRecord,
        invoice: InvoiceRecord | None,
        topic: str,
        message: str,
        origin: str,
        actor: Actor,
        name: str,
    ) -> EscalationRecord:
        now = self._clock.now()
        record = EscalationRecord(
            account_id=account.id,
            invoice_id=invoice.id if invoice else None,
            topic=topic,
            message=message,
            requester_email=normalize_email(actor.email),
            requester_name=name,
            requester_principal=actor.principal,
            origin=origin,
            status="open",
            delivery_status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(record)
        session.flush()
        add_audit_event(
            session,
            at=now,
            actor=None if origin in ("overdue", "security", "payment") else actor,
            account_id=account.id,
            action="escalation.create",
            target=format_reference(record.id),
            outcome="queued",
            detail={"topic": topic, "origin": origin, "invoice": invoice.number if invoice else None},
        )
        record_event(
            session,
            channel=WEBHOOK,
            type="escalation.created",
            subject=f"escalation:{record.id}",
            now=now,
            data={
                "reference": format_reference(record.id),
                "topic": topic,
                "account_id": account.external_id,
                "invoice": invoice.number if invoice else None,
                "requester_email": record.requester_email,
                "message": message,
            },
        )
        return record

    def _queued(self, view: EscalationView) -> None:
        log.info("escalation %s stored (topic %s, origin %s), e-mail queued", view.reference, view.topic, view.origin)

    def _by_reference(self, session: Session, reference: str) -> EscalationRecord:
        escalation_id = parse_reference(reference)
        record = session.get(EscalationRecord, escalation_id) if escalation_id is not None else None
        if record is None:
            raise EscalationNotFound(reference)
        return record

    def _find_invoice(
        self, session: Session, invoice_id: int | None, account_external_id: str | None, number: str | None
    ) -> InvoiceRecord | None:
        if invoice_id is not None:
            return session.get(InvoiceRecord, invoice_id)
        if account_external_id and number:
            return session.scalars(
                select(InvoiceRecord)
                .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
                .where(AccountRecord.external_id == account_external_id, InvoiceRecord.number == number)
            ).first()
        raise InvoiceNotFound(number or "")
