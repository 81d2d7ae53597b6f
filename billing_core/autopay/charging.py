"""The autopay pass: charge each open invoice of an autopay account on its due date, once.

Each charge goes through the same path as a click (``PaymentService``): a pending payment with
its idempotency key is committed first, together with the (invoice, attempt) row whose unique key
makes two passes running at once charge once; then one Stripe call (``off_session``); an unknown
outcome stays pending for reconcile, never re-sent. When the bank wants the cardholder (Stripe's 402
``authentication_required``), the payment stays open, the contacts get a link to confirm it on
session, and autopay does not try that invoice again by itself. The first attempt is made on the due date
(counted in ``BILLING_TIMEZONE``, or within the next days if a pass was missed); after a decline
it is retried 3 and 7 days after the due date, then left to the contacts and the reminders; a
hard decline (``declines.py``) is not retried at all. The switch and any open escalation about the
invoice ("I've already paid") are re-read in the transaction that starts the charge, so turning
autopay off stops a pass in flight and a reported invoice is not charged. An
invoice that was already overdue when autopay was turned on is never charged by it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing_core.audit import add_audit_event
from billing_core.autopay.declines import Decline
from billing_core.autopay.notices import AutopayNotice, ContactMessenger, NoticeKind, tell_contacts
from billing_core.autopay.switch import contact_emails
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    AutopayAttemptRecord,
    AutopayRecord,
    EscalationRecord,
    InvoiceRecord,
)
from billing_core.errors import BillingError, NoPaymentMethod
from billing_core.payments.service import PaymentService
from billing_core.views import Actor, PaymentView

logger = logging.getLogger(__name__)

AUTOPAY_ACTOR = Actor(email="autopay", principal="system:autopay", display_name="Autopay")
# Attempt n is made ``RETRY_DAYS[n - 1]`` days after the due date.
RETRY_DAYS = (0, 3, 7)
MAX_ATTEMPTS = len(RETRY_DAYS)
IN_FLIGHT = ("pending", "requires_action")
# An attempt the bank wanted the cardholder to confirm, never confirmed: final, not retried.
UNCONFIRMED = "unconfirmed"
# A hard decline (lost or stolen card, issuer's "do not try again"): final, not retried.
NOT_RETRIED = "not_retried"
# How far back the pass looks for invoices to retry (the last retry's day, and a week to spare).
LOOKBACK_DAYS = RETRY_DAYS[-1] + 7


@dataclass
class AutopayResult:
    """What one pass did: invoices charged, declined (or held for authentication) and skipped."""

    charged: int = 0
    declined: int = 0
    skipped: int = 0

    def summary(self) -> str:
        return f"charged {self.charged}, declined {self.declined}, skipped {self.skipped}"


@dataclass(frozen=True, slots=True)
class DueCharge:
    """One invoice to charge now, and which attempt that is."""

    invoice_id: int
    invoice_number: str
    due_on: date
    account_id: int
    account_external_id: str
    account_name: str
    attempt: int
    in_progress: bool  # a person's payment holds the invoice: skip this pass


def next_retry(due_on: date, attempt: int) -> date | None:
    """When autopay tries again after attempt ``attempt`` is declined; None after the last."""
    return due_on + timedelta(days=RETRY_DAYS[attempt]) if attempt < MAX_ATTEMPTS else None


def plan_query(today: date) -> Select[Any]:
    """Open invoices of autopay accounts due from ``LOOKBACK_DAYS`` ago to today, with their attempts."""
    attempt = AutopayAttemptRecord
    query: Any = (
        select(
            InvoiceRecord.id,
            InvoiceRecord.number,
            InvoiceRecord.due_on,
            InvoiceRecord.payment_lock_id,
            AccountRecord.id,
            AccountRecord.external_id,
            AccountRecord.name,
            attempt.attempt,
            attempt.status,
        )
        .join(
            AutopayRecord, and_(AutopayRecord.account_id == InvoiceRecord.account_id, AutopayRecord.enabled.is_(True))
        )
        .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
        .outerjoin(attempt, attempt.invoice_id == InvoiceRecord.id)
        .where(
            InvoiceRecord.status == "open",
            InvoiceRecord.due_on <= today,
            InvoiceRecord.due_on >= today - timedelta(days=LOOKBACK_DAYS),
            InvoiceRecord.amount_paid_minor < InvoiceRecord.amount_due_minor,
            # Stripe Billing collects these itself (collection_method=charge_automatically).
            or_(InvoiceRecord.collection_method.is_(None), InvoiceRecord.collection_method != "charge_automatically"),
            ~_open_escalation(InvoiceRecord.id),
        )
        .order_by(InvoiceRecord.id, attempt.attempt)
    )
    return query  # type: ignore[no-any-return]


def _open_escalation(invoice_id: Any) -> Any:
    """An open escalation about the invoice ("I've already paid", a question, a dispute)."""
    return exists().where(EscalationRecord.invoice_id == invoice_id, EscalationRecord.status == "open")


class _Held(Exception):
    """Autopay must not charge this invoice now (the reason is the message)."""


def held_now(session: Session, account_id: int, invoice_id: int) -> str | None:
    """Why autopay must not charge the invoice at this moment, re-read in the charging transaction
    (the switch's row locked, so turning autopay off stops a pass in flight); None when it may."""
    enabled = session.scalar(
        select(AutopayRecord.enabled).where(AutopayRecord.account_id == account_id).with_for_update()
    )
    if not enabled:
        return "autopay was turned off"
    if session.scalar(select(_open_escalation(invoice_id))):
        return "an open escalation about the invoice holds it"
    return None


def plan_charges(db: Database, today: date) -> list[DueCharge]:
    """The charges due on ``today`` (one read; no Stripe call)."""
    with db.reading() as connection:
        rows = connection.execute(plan_query(today)).all()
    return due_charges(rows, today)


def due_charges(rows: Sequence[Any], today: date) -> list[DueCharge]:
    """From :func:`plan_query`'s rows, the invoices whose next attempt's day has come."""
    due: list[DueCharge] = []
    for _, group in groupby(rows, key=lambda row: row[0]):
        runs = list(group)
        invoice_id, number, due_on, lock, account_id, external_id, name = runs[0][:7]
        attempts = {row[7]: row[8] for row in runs if row[7] is not None}
        if any(status in IN_FLIGHT for status in attempts.values()):
            continue
        if attempts:
            last = max(attempts)
            if attempts[last] != "declined" or last >= MAX_ATTEMPTS:
                continue
            number_next = last + 1
        else:
            if today >= due_on + timedelta(days=RETRY_DAYS[1]):
                continue  # overdue before autopay could charge it: left to people
            number_next = 1
        if today < due_on + timedelta(days=RETRY_DAYS[number_next - 1]):
            continue
        due.append(
            DueCharge(
                invoice_id, number, due_on, account_id, external_id, name, number_next, in_progress=lock is not None
            )
        )
    return due


class AutopayPass:
    """Runs the autopay pass (scheduler and ``billing-bot autopay run-once``)."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        payments: PaymentService,
        timezone: ZoneInfo,
        messenger: ContactMessenger | None = None,
        know_default: Callable[[int], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._payments = payments
        self._tz = timezone
        self._messenger = messenger
        # Asks Stripe for an account's default card when the local copy has none (account id).
        self._know_default = know_default

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    def plan(self) -> list[DueCharge]:
        """The charges due now (one read; no Stripe call)."""
        return plan_charges(self._db, self.today())

    def run(self) -> AutopayResult:
        """Tell the contacts how charges left in flight ended, then make every charge due now."""
        result = AutopayResult()
        self._follow_up()
        for charge in self.plan():
            if charge.in_progress:
                result.skipped += 1
                continue
            self._charge(charge, result)
        return result

    def _charge(self, charge: DueCharge, result: AutopayResult) -> None:
        now = self._clock.now()

        def claim(session: Session, payment: Any) -> None:
            held = held_now(session, charge.account_id, charge.invoice_id)
            if held is not None:
                raise _Held(held)  # rolls the payment back: nothing is sent to Stripe
            session.execute(
                update(AutopayAttemptRecord)
                .where(AutopayAttemptRecord.invoice_id == charge.invoice_id, AutopayAttemptRecord.status == "declined")
                .values(status="retried")
            )
            session.add(
                AutopayAttemptRecord(
                    invoice_id=charge.invoice_id,
                    attempt=charge.attempt,
                    payment_id=payment.id,
                    status="pending",
                    claimed_at=now,
                )
            )
            session.flush()  # a concurrent pass's row makes this fail: nothing is committed

        try:
            try:
                started = self._payments.start_system_payment(
                    AUTOPAY_ACTOR, charge.invoice_id, source="autopay", claimed=claim
                )
            except NoPaymentMethod:
                if self._know_default is None:
                    raise
                self._know_default(charge.account_id)  # the copy may lag Stripe: ask, then once more
                started = self._payments.start_system_payment(
                    AUTOPAY_ACTOR, charge.invoice_id, source="autopay", claimed=claim
                )
        except IntegrityError:
            result.skipped += 1  # another pass claimed this attempt
            return
        except _Held as held:
            logger.info("autopay %s not charged: %s", charge.invoice_number, held)
            result.skipped += 1
            return
        except BillingError as error:
            logger.info(
                "autopay %s attempt %s skipped: %s", charge.invoice_number, charge.attempt, type(error).__name__
            )
            result.skipped += 1
            return
        try:
            view = self._payments.execute(started.id)
        except BillingError as error:
            logger.warning("autopay payment %s: %s", started.id, type(error).__name__)
            view = started
        outcome = self._settle(charge.invoice_id, charge.attempt, "pending", view)
        if outcome == "charged":
            result.charged += 1
        elif outcome in ("declined", "requires_action", NOT_RETRIED):
            result.declined += 1
        else:
            result.skipped += 1  # outcome unknown: reconcile settles it, the next pass tells them

    def _follow_up(self) -> None:
        """Attempts whose payment settled later (reconcile, webhook, authentication page)."""
        with self._db.read() as session:
            rows = session.execute(
                select(
                    AutopayAttemptRecord.invoice_id,
                    AutopayAttemptRecord.attempt,
                    AutopayAttemptRecord.status,
                    AutopayAttemptRecord.payment_id,
                ).where(AutopayAttemptRecord.status.in_(IN_FLIGHT))
            ).all()
        for invoice_id, attempt, status, payment_id in rows:
            if payment_id is None:
                continue
            view = self._payments.view(payment_id)
            if view.status != status:
                self._settle(invoice_id, attempt, status, view)

    def _settle(self, invoice_id: int, attempt: int, was: str, payment: PaymentView) -> str:
        """Record the attempt's outcome (once: compare-and-set on its status) and tell the contacts."""
        outcome = {"succeeded": "charged", "failed": "declined"}.get(payment.status, payment.status)
        if outcome == "declined" and was == "requires_action":
            # The customer was asked to confirm on session and did not: autopay does not retry
            # what only the cardholder can complete.
            outcome = UNCONFIRMED
        elif outcome == "declined" and not Decline(*self._payments.decline_of(payment.id)).worth_retrying:
            outcome = NOT_RETRIED  # the bank says another try with this card is pointless
        if outcome == was:
            return outcome
        now = self._clock.now()
        with self._db.transaction() as session:
            if (
                outcome == "declined"
                and session.scalar(select(InvoiceRecord.status).where(InvoiceRecord.id == invoice_id)) != "open"
            ):
                outcome = "cancelled"  # closed at its source before the charge: nothing to tell
            changed = session.execute(
                update(AutopayAttemptRecord)
                .where(
                    AutopayAttemptRecord.invoice_id == invoice_id,
                    AutopayAttemptRecord.attempt == attempt,
                    AutopayAttemptRecord.status == was,
                )
                .values(status=outcome, settled_at=None if outcome in IN_FLIGHT else now)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if changed != 1:
                return outcome
            invoice = session.get(InvoiceRecord, invoice_id)
            assert invoice is not None
            account = session.get(AccountRecord, invoice.account_id)
            assert account is not None
            add_audit_event(
                session,
                at=now,
                actor=AUTOPAY_ACTOR,
                action=f"autopay.{outcome}",
                outcome=outcome,
                account_id=account.id,
                target=f"invoice:{invoice.number}",
                detail={"attempt": attempt, "payment": payment.id},
            )
            emails = contact_emails(session, account.id)
            notice = _notice(
                outcome, account.external_id, account.name, invoice.number, invoice.due_on, attempt, payment
            )
        if notice is not None:
            tell_contacts(self._messenger, emails, notice)
        return outcome


def _notice(
    outcome: str, account: str, name: str, number: str, due_on: date, attempt: int, payment: PaymentView
) -> AutopayNotice | None:
    kinds: dict[str, NoticeKind] = {
        "charged": "charged",
        "declined": "declined",
        "requires_action": "needs_authentication",
        UNCONFIRMED: "declined",
        NOT_RETRIED: "declined",
    }
    kind = kinds.get(outcome)
    if kind is None:
        return None
    label = f"{(payment.card_brand or 'card').title()} •••• {payment.card_last4 or '????'}"
    return AutopayNotice(
        kind=kind,
        account_external_id=account,
        account_name=name,
        invoice_number=number,
        card_label=label,
        reason=payment.failure_reason or "",
        action_url=payment.action_url or "",
        retry_on=next_retry(due_on, attempt) if outcome == "declined" else None,
        payment=payment,
    )
