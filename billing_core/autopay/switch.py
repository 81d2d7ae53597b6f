"""Turning autopay on and off for an account, and turning it off when its last card goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from billing_core.access import require_account
from billing_core.audit import add_audit_event
from billing_core.autopay.notices import AutopayNotice, ContactMessenger, NoticeKind, tell_contacts
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, AutopayRecord, ContactRecord, InvoiceRecord, PaymentMethodRecord
from billing_core.errors import AccountNotFound, AutopayCardChanged, AutopayNeedsDefaultCard
from billing_core.identity.emails import normalize_email
from billing_core.views import Actor, PaymentMethodView, PaymentView

WHAT_HAPPENS = "Open invoices will be charged in full on their due date"
# Who turned autopay off when a payment was disputed (the audit's actor).
DISPUTE_ACTOR = Actor(email="dispute", principal="system:dispute", display_name="a dispute")


@dataclass(frozen=True, slots=True)
class AutopayStatus:
    """An account's autopay as a screen shows it (and a confirmation names it)."""

    account_external_id: str
    account_name: str
    enabled: bool
    card: PaymentMethodView | None  # the default card: what autopay charges
    changed_by: str = ""  # e-mail of who last turned it on or off
    changed_at: datetime | None = None
    # Open invoices Stripe Billing charges itself (charge_automatically): autopay leaves them to it.
    collected_by_stripe: int = 0

    @property
    def can_turn_on(self) -> bool:
        return not self.enabled and self.card is not None


def card_label(card: PaymentMethodRecord | PaymentMethodView) -> str:
    return f"{card.brand.title()} •••• {card.last4}"


def default_card(session: Session, account_id: int) -> PaymentMethodRecord | None:
    return session.scalars(
        select(PaymentMethodRecord).where(
            PaymentMethodRecord.account_id == account_id, PaymentMethodRecord.is_default.is_(True)
        )
    ).first()


def contact_emails(session: Session, account_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ContactRecord.email).where(ContactRecord.account_id == account_id).order_by(ContactRecord.email)
        )
    )


class AutopayService:
    """Autopay's switch. Every call re-checks that the actor is a contact of the account."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        messenger: ContactMessenger | None = None,
        know_default: Callable[[Actor, str], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._messenger = messenger
        # Asks Stripe for the default card when the local copy has none (with a Stripe key):
        # autopay's card is Stripe's default, not the copy's.
        self._know_default = know_default

    def _known_default(self, actor: Actor, account_external_id: str) -> None:
        if self._know_default is not None and isinstance(account_external_id, str) and account_external_id:
            self._know_default(actor, account_external_id)

    def status(self, actor: Actor, account_external_id: str, *, default_known: bool = False) -> AutopayStatus:
        """Whether autopay is on, and the card it charges (or would charge). One statement: the
        join on the caller's contact row is the membership guard. ``default_known``: the caller has
        just read the card copy and it names a default card, so the copy need not be checked first."""
        if not isinstance(account_external_id, str) or not account_external_id:
            raise AccountNotFound(account_external_id)
        if not default_known:
            self._known_default(actor, account_external_id)
        card, switch = PaymentMethodRecord, AutopayRecord
        collected = (
            select(func.count(InvoiceRecord.id))
            .where(
                InvoiceRecord.account_id == AccountRecord.id,
                InvoiceRecord.status == "open",
                InvoiceRecord.collection_method == "charge_automatically",
            )
            .scalar_subquery()
        )
        query = (
            select(
                AccountRecord.external_id,
                AccountRecord.name,
                switch.enabled,
                switch.changed_by_email,
                switch.changed_at,
                card.stripe_payment_method_id,
                card.brand,
                card.last4,
                card.exp_month,
                card.exp_year,
                collected,
            )
            .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
            .outerjoin(switch, switch.account_id == AccountRecord.id)
            .outerjoin(card, and_(card.account_id == AccountRecord.id, card.is_default.is_(True)))
            .where(
                AccountRecord.external_id == account_external_id, ContactRecord.email == normalize_email(actor.email)
            )
            .limit(1)
        )
        with self._db.reading() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise AccountNotFound(account_external_id)
        external_id, name, enabled, changed_by, changed_at, card_id, brand, last4, month, year, by_stripe = row
        view = (
            None
            if card_id is None
            else PaymentMethodView(
                id=card_id, brand=brand, last4=last4, exp_month=month, exp_year=year, is_default=True
            )
        )
        return AutopayStatus(
            account_external_id=external_id,
            account_name=name,
            enabled=bool(enabled),
            card=view,
            changed_by=changed_by or "",
            changed_at=changed_at,
            collected_by_stripe=int(by_stripe or 0),
        )

    def turn_on(self, actor: Actor, account_external_id: str, *, confirmed_card: str | None = None) -> AutopayStatus:
        """Turn autopay on with the default card; the other contacts are told by DM.

        ``confirmed_card``: the card the person saw in the confirmation. If the default card changed
        since, ``AutopayCardChanged`` (they confirm again). Without a default card,
        ``AutopayNeedsDefaultCard``. Already on: nothing changes.
        """
        self._known_default(actor, account_external_id)
        with self._db.transaction() as session:
            account = require_account(session, actor, account_external_id)
            card = default_card(session, account.id)
            if card is None:
                raise AutopayNeedsDefaultCard(account_external_id)
            if confirmed_card is not None and confirmed_card != card.stripe_payment_method_id:
                raise AutopayCardChanged(account_external_id)
            changed = _set(
                session, account, actor, enabled=True, now=self._clock.now(), detail={"card_last4": card.last4}
            )
            status, emails = _status(session, account), contact_emails(session, account.id)
        if changed:
            self._tell(emails, status, "turned_on", actor)
        return status

    def turn_off(self, actor: Actor, account_external_id: str) -> AutopayStatus:
        """Turn autopay off; the other contacts are told by DM. Already off: nothing changes."""
        with self._db.transaction() as session:
            account = require_account(session, actor, account_external_id)
            changed = _set(session, account, actor, enabled=False, now=self._clock.now())
            status, emails = _status(session, account), contact_emails(session, account.id)
        if changed:
            self._tell(emails, status, "turned_off", actor)
        return status

    def after_card_removed(self, actor: Actor, account_external_id: str) -> bool:
        """Autopay with no default card left charges nothing: turn it off and tell every contact.

        True when it was turned off. Call after the card cache was refreshed.
        """
        with self._db.transaction() as session:
            account = require_account(session, actor, account_external_id)
            if default_card(session, account.id) is not None:
                return False
            changed = _set(
                session, account, actor, enabled=False, now=self._clock.now(), detail={"reason": "last card removed"}
            )
            status, emails = _status(session, account), contact_emails(session, account.id)
        if changed:
            self._tell(emails, status, "card_removed", None)
        return changed

    def pause_for_dispute(self, account_external_id: str, what: str) -> bool:
        """For the bot itself: a payment of the account was disputed, so autopay stops charging its
        card until a contact turns it on again; every contact is told. True when it was on."""
        with self._db.transaction() as session:
            account = session.scalars(
                select(AccountRecord).where(AccountRecord.external_id == account_external_id)
            ).first()
            if account is None:
                return False
            changed = _set(
                session, account, DISPUTE_ACTOR, enabled=False, now=self._clock.now(), detail={"reason": "dispute"}
            )
            status, emails = _status(session, account), contact_emails(session, account.id)
        if changed:
            actor = Actor(email=DISPUTE_ACTOR.email, principal=DISPUTE_ACTOR.principal, display_name=what)
            self._tell(emails, status, "turned_off", actor)
        return changed

    def tell_refund(self, payment: PaymentView) -> None:
        """For the bot itself: an autopay charge was refunded in Stripe. No one clicked to pay it, so
        the account's contacts (who got its receipt) are told, as they were of the charge."""
        with self._db.read() as session:
            account = session.scalars(
                select(AccountRecord).where(AccountRecord.external_id == payment.account_external_id)
            ).first()
            if account is None:
                return
            name, emails = account.name, contact_emails(session, account.id)
        notice = AutopayNotice(
            kind="refunded",
            account_external_id=payment.account_external_id,
            account_name=name,
            invoice_number=", ".join(payment.invoice_numbers),
            payment=payment,
        )
        tell_contacts(self._messenger, emails, notice)

    def _tell(self, emails: list[str], status: AutopayStatus, kind: NoticeKind, actor: Actor | None) -> None:
        notice = AutopayNotice(
            kind=kind,
            account_external_id=status.account_external_id,
            account_name=status.account_name,
            card_label=card_label(status.card) if status.card else "",
            changed_by=(actor.display_name or actor.email) if actor else "",
        )
        tell_contacts(self._messenger, emails, notice, skip=actor.email if actor else "")


def _set(
    session: Session,
    account: AccountRecord,
    actor: Actor,
    *,
    enabled: bool,
    now: datetime,
    detail: dict[str, str] | None = None,
) -> bool:
    """Store the switch and its audit entry; False (and nothing written) when it already was so."""
    record = session.get(AutopayRecord, account.id, with_for_update=True)
    if (record.enabled if record else False) == enabled:
        return False
    if record is None:
        record = AutopayRecord(account_id=account.id)
        session.add(record)
    record.enabled = enabled
    record.changed_by_email = actor.email
    record.changed_by_principal = actor.principal
    record.changed_at = now
    add_audit_event(
        session,
        at=now,
        actor=actor,
        action="autopay.turned_on" if enabled else "autopay.turned_off",
        outcome="ok",
        account_id=account.id,
        target=f"account:{account.external_id}",
        detail=detail,
    )
    return True


def _status(session: Session, account: AccountRecord) -> AutopayStatus:
    record = session.get(AutopayRecord, account.id)
    card = default_card(session, account.id)
    view = (
        None
        if card is None
        else PaymentMethodView(
            id=card.stripe_payment_method_id,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            is_default=True,
        )
    )
    return AutopayStatus(
        account_external_id=account.external_id,
        account_name=account.name,
        enabled=bool(record and record.enabled),
        card=view,
        changed_by=record.changed_by_email if record else "",
        changed_at=record.changed_at if record else None,
    )
