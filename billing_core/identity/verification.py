"""Proof of e-mail ownership: a one-time code e-mailed to a billing contact links a principal to it.

Knows nothing of Slack: a principal is an opaque string and the e-mail is the one the chat
workspace claims for it. In ``email_code`` mode that claim alone is not enough; the principal must
enter a code sent to the address. Codes are stored only as a keyed hash, expire, allow a few
attempts and are rate limited per principal and per address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AuditEventRecord, ContactRecord, PrincipalRecord, VerificationCodeRecord
from billing_core.errors import (
    NotABillingContact,
    VerificationAttemptsExhausted,
    VerificationCodeExpired,
    VerificationCodeWrong,
    VerificationMailFailed,
    VerificationRateLimited,
)
from billing_core.identity.emails import normalize_email
from billing_core.identity.principal import ClaimTrust
from billing_core.mail import MailDeliveryError, Mailer
from billing_core.tallies import Tally
from billing_core.views import Actor

logger = logging.getLogger(__name__)

SLACK_EMAIL = "slack_email"
EMAIL_CODE = "email_code"
CODE_LIFETIME = timedelta(minutes=15)
MAX_ATTEMPTS = 5
RATE_WINDOW = timedelta(minutes=15)
MAX_CODES_PER_WINDOW = 3  # per requesting principal
DAY = timedelta(hours=24)
MAX_CODES_PER_REQUESTER_PER_DAY = 5
# Across every requester: at most this many mails a day to one address. One requester can use at
# most MAX_CODES_PER_REQUESTER_PER_DAY of them, so a single attacker cannot lock the owner out.
MAX_CODES_PER_ADDRESS_PER_DAY = 10
# Wrong codes in 24 hours after which a requester gets no new code (its back-off).
MAX_FAILED_PROOFS_PER_REQUESTER_PER_DAY = 10
# Wrong codes for one address in 24 hours that alert billing staff (once a day).
ALERT_FAILED_PROOFS_PER_ADDRESS = 10

FAILED_PROOFS = Tally(
    "billing_identity_failed_proofs_total",
    "Failed proofs of e-mail ownership by reason (wrong, exhausted, expired).",
    ("reason",),
)


@dataclass(frozen=True, slots=True)
class CodeSent:
    """Where the pending code went (masked), and until when it works."""

    masked_email: str
    expires_at: datetime
    new: bool


@dataclass(frozen=True, slots=True)
class GuessingAlert:
    """Many wrong codes for one address: what billing staff are told."""

    email: str
    failed_proofs: int
    principals: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RevokedLink:
    principal: str
    email: str
    verified_at: datetime | None


def mask_email(email: str) -> str:
    """``ann@acme.test`` -> ``a•••@acme.test``: enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


class IdentityVerification:
    """Decide whether a principal must prove its e-mail, send codes, check them, revoke links."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        mode: str,
        mailer: Mailer | None,
        sender: str,
        key: str,
        claim_trust: ClaimTrust | None = None,
        alert_staff: Callable[[GuessingAlert], None] | None = None,
    ) -> None:
        if mode not in (SLACK_EMAIL, EMAIL_CODE):
            raise ValueError(f"unknown identity verification mode {mode!r}")
        self._db = db
        self._clock = clock
        self.mode = mode
        self._mailer = mailer
        self._sender = sender
        # Kept outside the database (derived from a secret in the environment), so a copy of the
        # database alone does not let anyone try all million codes offline.
        self._key = key.encode()
        # slack_email mode: whose claimed e-mail identifies them (by principal); None trusts all.
        self._claim_trust = claim_trust
        # Many wrong codes for one address: billing staff are told (an escalation from the bot).
        self._alert_staff = alert_staff

    # -- who must verify ----------------------------------------------------------------

    def must_prove(self, actor: Actor) -> bool:
        """True when ``actor``'s e-mail counts only once this principal proved it with a code.

        In ``slack_email`` mode only principals the claim is not trusted for must prove it, and
        always an external actor (another organization's user): their workspace's admins, not the
        vendor's customer, control the e-mail their profile shows.
        """
        trusted = self._claim_trust is None or self._claim_trust.trusts(actor.principal)
        return self.mode == EMAIL_CODE or actor.external or not trusted

    def proven_by(self, actor: Actor, linked_email: str | None) -> bool:
        """For a billing contact whose principal's proven e-mail (``principals.verified_email``) was
        read along with their accounts: True when no code is needed (``needs_code`` without its read)."""
        return not self.must_prove(actor) or linked_email == normalize_email(actor.email)

    def needs_code(self, actor: Actor) -> bool:
        """True when ``actor`` is a billing contact whose e-mail this principal has not proven yet
        (``must_prove``)."""
        if not self.must_prove(actor):
            return False
        email = normalize_email(actor.email)
        with self._db.read() as session:
            linked = session.scalar(
                select(PrincipalRecord.verified_email).where(PrincipalRecord.principal == actor.principal)
            )
            if linked == email:
                return False
            return _is_contact(session, email)

    # -- codes --------------------------------------------------------------------------

    def request_code(self, actor: Actor, *, fresh: bool = False) -> CodeSent:
        """E-mail a code to ``actor``'s address, or name the one still pending (unless ``fresh``).

        ``VerificationRateLimited`` past the principal's limits (3 codes in 15 minutes, 5 a day, or
        10 wrong codes in 24 hours: checked first) or the address's (10 codes a day);
        ``VerificationMailFailed`` when no mail server takes it; ``NotABillingContact`` for others.
        """
        email = normalize_email(actor.email)
        now = self._clock.now()
        with self._db.transaction() as session:
            if not _is_contact(session, email):
                raise NotABillingContact(email)
            pending = self._pending(session, actor.principal, email, now)
            if pending is not None and not fresh:
                return CodeSent(mask_email(email), pending.expires_at, new=False)
            self._check_rate(session, actor.principal, email, now)
            if self._mailer is None:
                raise VerificationMailFailed("SMTP_URL is not set")
            code = f"{secrets.randbelow(1_000_000):06d}"
            session.execute(
                update(VerificationCodeRecord)
                .where(VerificationCodeRecord.principal == actor.principal, VerificationCodeRecord.status == "pending")
                .values(status="superseded")
            )
            record = VerificationCodeRecord(
                principal=actor.principal,
                email=email,
                code_hash=self._hash(actor.principal, email, code),
                attempts=0,
                status="pending",
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
            session.add(record)
            add_audit_event(session, at=now, actor=actor, action="identity.code_sent", outcome="ok", target=email)
        try:
            self._mailer.send(self._message(email, code))
        except MailDeliveryError as error:
            logger.warning("verification code e-mail failed: %s", error)
            with self._db.transaction() as session:
                session.execute(
                    update(VerificationCodeRecord).where(VerificationCodeRecord.id == record.id).values(status="failed")
                )
            raise VerificationMailFailed(str(error)) from error
        return CodeSent(mask_email(email), record.expires_at, new=True)

    def confirm(self, principal: str, code: str) -> str:
        """Check ``code`` against the principal's pending code; on success link and return the e-mail.

        Wrong: ``VerificationCodeWrong`` (attempts left). Then ``VerificationAttemptsExhausted``.
        None pending or too old: ``VerificationCodeExpired``. Each attempt is counted atomically,
        so parallel guesses cannot exceed the limit.
        """
        now = self._clock.now()
        typed = "".join(code.split())
        with self._db.transaction() as session:
            record = session.scalars(
                select(VerificationCodeRecord)
                .where(VerificationCodeRecord.principal == principal, VerificationCodeRecord.status == "pending")
                .order_by(VerificationCodeRecord.id.desc())
            ).first()
            if record is None or record.expires_at <= now:
                FAILED_PROOFS.labels("expired").inc()
                raise VerificationCodeExpired(principal)
            before = record.attempts
            if before >= MAX_ATTEMPTS:
                FAILED_PROOFS.labels("exhausted").inc()
                raise VerificationAttemptsExhausted(principal)
            counted = session.execute(
                update(VerificationCodeRecord)
                .where(VerificationCodeRecord.id == record.id, VerificationCodeRecord.attempts < MAX_ATTEMPTS)
                .values(attempts=VerificationCodeRecord.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if counted.rowcount != 1:  # type: ignore[attr-defined]
                raise VerificationAttemptsExhausted(principal)
            right = hmac.compare_digest(record.code_hash, self._hash(principal, record.email, typed))
            if right:
                record.status = "used"
                self._link(session, principal, record.email, now)
                add_audit_event(
                    session,
                    at=now,
                    actor=_actor(principal, record.email),
                    action="identity.verified",
                    outcome="ok",
                    target=record.email,
                )
                return record.email
            email = record.email
            add_audit_event(
                session,
                at=now,
                actor=_actor(principal, email),
                action="identity.code_wrong",
                outcome="refused",
                target=email,
                detail={"attempt": before + 1},
            )
        FAILED_PROOFS.labels("wrong").inc()
        self._alert_if_guessed(email, now)
        left = MAX_ATTEMPTS - (before + 1)
        if left <= 0:
            self._audit_exhausted(principal, email, now)
            raise VerificationAttemptsExhausted(principal)
        raise VerificationCodeWrong(left)

    # -- revocation ---------------------------------------------------------------------

    def revoke(self, who: str, *, by: str = "operator") -> list[RevokedLink]:
        """Unlink every principal matching ``who``: a verified e-mail, a principal, or a chat user id.

        Pending codes of those principals stop working too. Returns what was revoked.
        """
        query = who.strip()
        if not query:
            return []
        now = self._clock.now()
        with self._db.transaction() as session:
            matches = session.scalars(
                select(PrincipalRecord).where(
                    PrincipalRecord.verified_email.is_not(None),
                    or_(
                        PrincipalRecord.verified_email == normalize_email(query),
                        PrincipalRecord.principal == query,
                        PrincipalRecord.principal.like(f"%:{_escape_like(query)}", escape="\\"),
                    ),
                )
            ).all()
            revoked = []
            for record in matches:
                assert record.verified_email is not None
                revoked.append(RevokedLink(record.principal, record.verified_email, record.verified_at))
                add_audit_event(
                    session,
                    at=now,
                    actor=None,
                    action="identity.revoked",
                    outcome="ok",
                    target=record.verified_email,
                    detail={"principal": record.principal, "by": by},
                )
                record.verified_email = None
                record.verified_at = None
                record.updated_at = now
            principals = [link.principal for link in revoked]
            if principals:
                session.execute(
                    update(VerificationCodeRecord)
                    .where(VerificationCodeRecord.principal.in_(principals), VerificationCodeRecord.status == "pending")
                    .values(status="revoked")
                )
            return revoked

    # -- internals ----------------------------------------------------------------------

    def _hash(self, principal: str, email: str, code: str) -> str:
        message = f"{principal}\n{email}\n{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _pending(self, session: Session, principal: str, email: str, now: datetime) -> VerificationCodeRecord | None:
        return session.scalars(
            select(VerificationCodeRecord).where(
                VerificationCodeRecord.principal == principal,
                VerificationCodeRecord.email == email,
                VerificationCodeRecord.status == "pending",
                VerificationCodeRecord.expires_at > now,
                VerificationCodeRecord.attempts < MAX_ATTEMPTS,
            )
        ).first()

    def _check_rate(self, session: Session, principal: str, email: str, now: datetime) -> None:
        # The requester first: its limits hold an attacker back without touching the address, so
        # the address's own limit (which the owner shares) is reached only by many requesters.
        by_principal = VerificationCodeRecord.principal == principal
        if (
            _codes_since(session, by_principal, now - RATE_WINDOW) >= MAX_CODES_PER_WINDOW
            or _codes_since(session, by_principal, now - DAY) >= MAX_CODES_PER_REQUESTER_PER_DAY
            or _failed_since(session, by_principal, now - DAY) >= MAX_FAILED_PROOFS_PER_REQUESTER_PER_DAY
        ):
            raise VerificationRateLimited(principal)
        if _codes_since(session, VerificationCodeRecord.email == email, now - DAY) >= MAX_CODES_PER_ADDRESS_PER_DAY:
            raise VerificationRateLimited(principal)

    def _alert_if_guessed(self, email: str, now: datetime) -> None:
        """Tell billing staff, once a day, when one address collects many wrong codes."""
        with self._db.transaction() as session:
            by_email = VerificationCodeRecord.email == email
            failed = _failed_since(session, by_email, now - DAY)
            if failed < ALERT_FAILED_PROOFS_PER_ADDRESS:
                return
            alerted = session.scalar(
                select(func.count(AuditEventRecord.id)).where(
                    AuditEventRecord.action == "identity.guessing_alert",
                    AuditEventRecord.target == email,
                    AuditEventRecord.at > now - DAY,
                )
            )
            if alerted:
                return
            principals = tuple(
                session.scalars(
                    select(VerificationCodeRecord.principal)
                    .where(by_email, VerificationCodeRecord.created_at > now - DAY, VerificationCodeRecord.attempts > 0)
                    .distinct()
                    .order_by(VerificationCodeRecord.principal)
                ).all()
            )
            add_audit_event(
                session,
                at=now,
                actor=None,
                action="identity.guessing_alert",
                outcome="alerted",
                target=email,
                detail={"failed_proofs": failed, "principals": list(principals)},
            )
        logger.warning("%d wrong verification codes for one address in 24 hours: staff alerted", failed)
        if self._alert_staff is not None:
            try:
                self._alert_staff(GuessingAlert(email, failed, principals))
            except Exception:  # the alert is audited above; the person still hears about their code
                logger.exception("could not alert staff about wrong verification codes")

    def _link(self, session: Session, principal: str, email: str, now: datetime) -> None:
        record = session.scalars(select(PrincipalRecord).where(PrincipalRecord.principal == principal)).first()
        if record is None:
            record = PrincipalRecord(principal=principal, updated_at=now)
            session.add(record)
        record.verified_email = email
        record.verified_at = now
        record.updated_at = now

    def _audit_exhausted(self, principal: str, email: str, now: datetime) -> None:
        with self._db.transaction() as session:
            add_audit_event(
                session,
                at=now,
                actor=_actor(principal, email),
                action="identity.code_refused",
                outcome="refused",
                target=email,
                detail={"reason": "too many wrong codes"},
            )

    def _message(self, email: str, code: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = email
        message["Subject"] = "Your billing verification code"
        message.set_content(
            f"Your verification code is {code}\n\n"
            "Enter it in Slack to confirm that this e-mail address is yours. It works for 15 minutes.\n"
            "If you did not ask for it, you can ignore this e-mail: nothing happens without the code.\n"
        )
        return message


def _codes_since(session: Session, where: ColumnElement[bool], since: datetime) -> int:
    count = session.scalar(
        select(func.count(VerificationCodeRecord.id)).where(where, VerificationCodeRecord.created_at > since)
    )
    return count or 0


def _failed_since(session: Session, where: ColumnElement[bool], since: datetime) -> int:
    """Wrong codes typed for codes created since ``since`` (a used code's last attempt was right)."""
    attempts, used = session.execute(
        select(
            func.coalesce(func.sum(VerificationCodeRecord.attempts), 0),
            func.count(VerificationCodeRecord.id).filter(VerificationCodeRecord.status == "used"),
        ).where(where, VerificationCodeRecord.created_at > since)
    ).one()
    return int(attempts) - int(used)


def _is_contact(session: Session, email: str) -> bool:
    found = session.scalar(select(ContactRecord.id).where(ContactRecord.email == email).limit(1))
    return found is not None


def _actor(principal: str, email: str) -> Actor:
    return Actor(email=email, principal=principal, display_name="")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
