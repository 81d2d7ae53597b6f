"""Paying one open invoice, or the whole open balance, with a saved card.

``pay`` does it all in one call; underneath are two steps, so a caller can answer at once and
call Stripe afterwards:

1. ``start_*`` is database only. It checks everything, stores the Payment (pending, with its
   idempotency key) and claims the invoices with a compare-and-set on ``payment_lock_id``, then
   commits. A second click, or a concurrent one, finds the invoices claimed: one payment, ever.
2. ``execute`` claims the payment's single Stripe call (compare-and-set on ``submitted_at``) and
   makes it. A payment already submitted is only looked up, never sent again: localstripe ignores
   idempotency keys and even real Stripe forgets them after 24 hours.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing_core.access import require_account, require_invoice, require_payment
from billing_core.accounts.invoice_state import closed_state
from billing_core.accounts.service import AccountService
from billing_core.audit import AuditLog, add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    InvoiceRecord,
    PaymentInvoiceRecord,
    PaymentMethodRecord,
    PaymentRecord,
)
from billing_core.errors import (
    BalanceChanged,
    BillingError,
    InvoiceNotPayable,
    NoPaymentMethod,
    PaymentInProgress,
    PaymentMethodNotFound,
    PaymentNotFound,
    PaymentProviderError,
)
from billing_core.notifications import Notifier
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.dm_threads import DmThread, PaymentDmThreads
from billing_core.payments.execution import PaymentExecutor, SourceCheck
from billing_core.payments.payable import Quote, balance_refusal, invoice_refusal, quote_balance, quote_invoice
from billing_core.payments.ports import PaymentGateway
from billing_core.payments.reconcile import Reconciler, ReconcileSummary
from billing_core.payments.settlement import view_of
from billing_core.views import AccountView, Actor, PaymentView

logger = logging.getLogger(__name__)


class PaymentService:
    """Start, execute, look up and reconcile payments. Every call re-checks membership."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        gateway: PaymentGateway,
        notifier: Notifier,
        links: AuthLinks,
        grace: timedelta = timedelta(minutes=10),
        action_expiry: timedelta = timedelta(hours=24),
        invoice_source: SourceCheck | None = None,
        alert_staff: Callable[[str, str], object] | None = None,
        accounts: AccountService,
    ) -> None:
        self._db = db
        self._accounts = accounts
        self._clock = clock
        self._audit = AuditLog(db=db, clock=clock)
        self._gateway = gateway
        self._executor = PaymentExecutor(db=db, clock=clock, gateway=gateway, links=links, source=invoice_source)
        self.reconciler = Reconciler(
            db=db,
            clock=clock,
            gateway=gateway,
            notifier=notifier,
            links=links,
            grace=grace,
            action_expiry=action_expiry,
            alert_staff=alert_staff,
        )

    # -- what a payment would pay -----------------------------------------------------------

    def quote(self, actor: Actor, account: AccountView, invoice_number: str | None = None) -> Quote:
        """What paying invoice ``invoice_number`` of ``account`` (None: its whole open balance) would
        pay now, as the pay modal shows it; the refusal the pay path would give is raised instead
        (``billing_core.payments.payable``, the one rule both apply)."""
        if invoice_number is not None:
            return quote_invoice(account, self._accounts.invoice(actor, account.external_id, invoice_number))
        # The summary is computed from the very invoices listed, so the total matches the rows.
        summary, invoices = self._accounts.open_account(actor, account.external_id)
        return quote_balance(summary, invoices)

    # -- paying in one call -----------------------------------------------------------------

    def pay(
        self,
        actor: Actor,
        account_external_id: str,
        payment_method_id: str,
        *,
        invoice_number: str | None = None,
        expected_amount_minor: int | None = None,
    ) -> PaymentView:
        """Pay one invoice (``invoice_number``), or the full open balance for exactly the amount the
        person confirmed (``expected_amount_minor``), and return the payment as it stands after.

        A refusal to start (stale, forged, already in progress) raises and nothing is charged.
        Once started, the outcome is the payment's own: if the Stripe call itself fails, that is
        logged and the payment re-read (``pending`` until reconcile settles it), never raised.
        """
        if invoice_number is not None:
            started = self.start_invoice_payment(actor, account_external_id, invoice_number, payment_method_id)
        elif expected_amount_minor is not None:
            started = self.start_balance_payment(actor, account_external_id, payment_method_id, expected_amount_minor)
        else:
            raise ValueError("pay an invoice or the balance the person confirmed")
        try:
            return self.execute(started.id)
        except BillingError as error:
            logger.warning("payment %s: %s", started.id, type(error).__name__)
            return self.get(actor, account_external_id, started.id)

    # -- starting ---------------------------------------------------------------------------

    def start_invoice_payment(
        self, actor: Actor, account_external_id: str, invoice_number: str, payment_method_id: str
    ) -> PaymentView:
        """Store a pending payment of the invoice's full outstanding amount and claim the invoice."""
        try:
            with self._db.transaction() as session:
                account, invoice = require_invoice(session, actor, account_external_id, invoice_number)
                _check_payable(session, invoice)
                card = _cached_card(session, account, payment_method_id)
                amount = invoice.amount_due_minor - invoice.amount_paid_minor
                payment = self._new_payment(session, actor, account, card, amount, invoice.currency)
                _claim(session, payment, [(invoice, amount)], self._clock)
                return view_of(session, payment)
        except BillingError as error:
            self._refused(actor, account_external_id, invoice_number, error)
            raise

    def start_balance_payment(
        self, actor: Actor, account_external_id: str, payment_method_id: str, expected_amount_minor: int
    ) -> PaymentView:
        """One payment for every open invoice, for exactly the sum the person confirmed."""
        try:
            with self._db.transaction() as session:
                account = require_account(session, actor, account_external_id)
                invoices = list(
                    session.scalars(
                        select(InvoiceRecord)
                        .where(InvoiceRecord.account_id == account.id, InvoiceRecord.status == "open")
                        .order_by(InvoiceRecord.id)
                    )
                )
                items = [(i, i.amount_due_minor - i.amount_paid_minor) for i in invoices]
                refusal = balance_refusal(
                    account_external_id, ((amount, i.payment_lock_id is not None) for i, amount in items)
                )
                if refusal is not None:
                    raise refusal
                items = [(i, amount) for i, amount in items if amount > 0]
                total = sum(amount for _, amount in items)
                if isinstance(expected_amount_minor, bool) or total != expected_amount_minor:
                    raise BalanceChanged(f"balance is {total}, confirmed {expected_amount_minor}")
                card = _cached_card(session, account, payment_method_id)
                payment = self._new_payment(session, actor, account, card, total, account.currency)
                _claim(session, payment, items, self._clock)
                return view_of(session, payment)
        except BillingError as error:
            self._refused(actor, account_external_id, "balance", error)
            raise

    def start_system_payment(
        self,
        actor: Actor,
        invoice_id: int,
        *,
        source: str,
        claimed: Callable[[Session, PaymentRecord], None] = lambda _session, _payment: None,
    ) -> PaymentView:
        """For the bot itself (autopay): a pending payment of the invoice's full outstanding amount
        with the account's default card, started like a click's. ``claimed`` runs in the same
        transaction (the caller's own claim, e.g. an autopay attempt row), so both commit or neither.

        Raises ``NoPaymentMethod`` without a default card, and the refusals of a click otherwise.
        """
        with self._db.transaction() as session:
            invoice = session.get(InvoiceRecord, invoice_id)
            if invoice is None:
                raise InvoiceNotPayable(str(invoice_id))
            account = session.get(AccountRecord, invoice.account_id)
            assert account is not None
            _check_payable(session, invoice)
            card = session.scalars(
                select(PaymentMethodRecord).where(
                    PaymentMethodRecord.account_id == account.id, PaymentMethodRecord.is_default.is_(True)
                )
            ).first()
            if card is None:
                raise NoPaymentMethod(account.external_id)
            amount = invoice.amount_due_minor - invoice.amount_paid_minor
            payment = self._new_payment(session, actor, account, card, amount, invoice.currency, source=source)
            _claim(session, payment, [(invoice, amount)], self._clock)
            claimed(session, payment)
            return view_of(session, payment)

    def _new_payment(
        self,
        session: Session,
        actor: Actor,
        account: AccountRecord,
        card: PaymentMethodRecord,
        amount: int,
        currency: str,
        *,
        source: str = "slack",
    ) -> PaymentRecord:
        now = self._clock.now()
        payment = PaymentRecord(
            account_id=account.id,
            amount_minor=amount,
            currency=currency,
            status="pending",
            idempotency_key=f"billing-pay-{uuid.uuid4().hex}",
            stripe_payment_method_id=card.stripe_payment_method_id,
            card_brand=card.brand,
            card_last4=card.last4,
            started_by_email=actor.email,
            started_by_principal=actor.principal,
            created_at=now,
            updated_at=now,
            source=source,
        )
        session.add(payment)
        session.flush()
        add_audit_event(
            session,
            at=now,
            actor=actor,
            action="payment.started",
            outcome="pending",
            account_id=account.id,
            target=f"payment:{payment.id}",
            detail={"amount_minor": amount, "currency": currency, "card_last4": card.last4, "source": source},
        )
        return payment

    def _refused(self, actor: Actor, account_external_id: str, what: str, error: BillingError) -> None:
        self._audit.record(
            actor=actor,
            action="payment.start",
            outcome="refused",
            account_external_id=account_external_id if isinstance(account_external_id, str) else None,
            target=str(what)[:255],
            detail={"error": type(error).__name__},
        )

    # -- executing and reading --------------------------------------------------------------

    def execute(self, payment_id: int) -> PaymentView:
        """Make the Stripe call for a started payment (safe to call again: it never charges twice).

        Returns the payment: ``succeeded``, ``failed`` (with ``failure_reason``),
        ``requires_action`` (with ``action_url``) or ``pending`` (outcome unknown; reconciled later).
        """
        view = self._executor.execute(payment_id)
        if view is None:
            return self.reconciler.settle(payment_id, notify=False).view
        return view

    def get(self, actor: Actor, account_external_id: str, payment_id: int) -> PaymentView:
        """One payment of a member account; ``PaymentNotFound`` otherwise."""
        if not isinstance(payment_id, int) or isinstance(payment_id, bool):
            raise PaymentNotFound(payment_id)
        with self._db.read() as session:
            _, payment = require_payment(session, actor, account_external_id, payment_id)
            return view_of(session, payment)

    def view(self, payment_id: int) -> PaymentView:
        """One payment for the bot's own jobs (autopay): no membership check, so never hand a
        person's request to it."""
        with self._db.read() as session:
            payment = session.get(PaymentRecord, payment_id)
            if payment is None:
                raise PaymentNotFound(payment_id)
            return view_of(session, payment)

    def for_authentication(self, payment_id: int) -> tuple[PaymentView, str | None]:
        """For the authentication page (the token in its URL is the authority, not an Actor):
        the payment and, while it awaits the cardholder (3-D Secure on session, or an autopay
        charge the customer must confirm on session), the PaymentIntent's client secret."""
        with self._db.read() as session:
            payment = session.get(PaymentRecord, payment_id)
            if payment is None:
                raise PaymentNotFound(payment_id)
            view = view_of(session, payment)
        if view.status != "requires_action" or view.stripe_payment_intent_id is None:
            return view, None
        return view, self._gateway.retrieve_intent(view.stripe_payment_intent_id).client_secret

    def decline_of(self, payment_id: int) -> tuple[str | None, str | None]:
        """For the bot's own jobs (autopay): the bank's decline code and advice code of a failed
        payment, asked of Stripe (the PaymentIntent's ``last_payment_error``); (None, None) when
        Stripe has no intent for it or cannot be asked."""
        with self._db.read() as session:
            intent_id = session.scalar(
                select(PaymentRecord.stripe_payment_intent_id).where(PaymentRecord.id == payment_id)
            )
        if intent_id is None:
            return None, None
        try:
            intent = self._gateway.retrieve_intent(intent_id)
        except PaymentProviderError:
            return None, None
        return intent.failure_code, intent.advice_code

    def refresh(self, payment_id: int) -> PaymentView:
        """Ask Stripe how the payment stands now and settle it (the payer is told if it finished)."""
        return self.reconciler.settle(payment_id).view

    def remember_receipt_dm(self, actor: Actor, payment_id: int, thread: DmThread) -> bool:
        """Where the payer's receipt DM went, for replies in its thread: kept only for a succeeded
        payment that ``actor`` made, once (``billing_core.payments.dm_threads``)."""
        return PaymentDmThreads(self._db).remember(payment_id, actor.principal, thread)

    def reconcile(self) -> ReconcileSummary:
        """Settle payments left pending or awaiting authentication by asking Stripe."""
        return self.reconciler.run()


def _check_payable(session: Session, invoice: InvoiceRecord, *, locked: bool | None = None) -> None:
    """Refuse an invoice that is not payable now (``billing_core.payments.payable``), saying why
    as its source said (item 3 of issue 27). ``locked``: known to be claimed already."""
    refusal = invoice_refusal(
        invoice.number,
        status=invoice.status,
        outstanding_minor=invoice.amount_due_minor - invoice.amount_paid_minor,
        locked=invoice.payment_lock_id is not None if locked is None else locked,
        closed=closed_state(session, invoice),
    )
    if refusal is not None:
        raise refusal


def _cached_card(session: Session, account: AccountRecord, payment_method_id: str) -> PaymentMethodRecord:
    """The card from the account's cache; ``execute`` re-checks it with Stripe before charging."""
    cards = list(session.scalars(select(PaymentMethodRecord).where(PaymentMethodRecord.account_id == account.id)))
    if not cards:
        raise NoPaymentMethod(account.external_id)
    for card in cards:
        if card.stripe_payment_method_id == payment_method_id:
            return card
    raise PaymentMethodNotFound(payment_method_id)


def _claim(session: Session, payment: PaymentRecord, items: Sequence[tuple[InvoiceRecord, int]], clock: Clock) -> None:
    """Claim every invoice for this payment, or raise (and so roll everything back)."""
    for invoice, amount in sorted(items, key=lambda item: item[0].id):
        claimed = session.execute(
            update(InvoiceRecord)
            .where(
                InvoiceRecord.id == invoice.id,
                InvoiceRecord.payment_lock_id.is_(None),
                InvoiceRecord.status == "open",
            )
            .values(payment_lock_id=payment.id, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            session.refresh(invoice)  # someone else got there first: say what they did
            _check_payable(session, invoice, locked=True)
            raise PaymentInProgress(invoice.number)
        session.add(PaymentInvoiceRecord(payment_id=payment.id, invoice_id=invoice.id, amount_minor=amount))
