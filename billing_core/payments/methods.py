"""The cards saved on an account's Stripe customer: list, make default, remove, add.

Stripe is the source of truth and every change is checked there: the card must be attached to
this account's customer (localstripe does not check that, and neither does Stripe's update of the
default card). New cards are only ever entered on a Stripe-hosted Checkout page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, and_, bindparam, func, select

from billing_core.access import require_account
from billing_core.audit import AuditLog
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    CardSetupRecord,
    ContactRecord,
    InvoiceRecord,
    PaymentMethodRecord,
    PaymentRecord,
)
from billing_core.errors import (
    AccountNotFound,
    BillingError,
    LastPaymentMethodInUse,
    PaymentInProgress,
    PaymentMethodNotFound,
    PaymentProviderError,
)
from billing_core.identity.emails import normalize_email
from billing_core.payments.card_cache import (
    cached_cards,
    fetch_cards,
    in_screen_order,
    refresh_cards,
    store_cards,
    views_of,
)
from billing_core.payments.ports import PaymentGateway
from billing_core.payments.settlement import OPEN_STATUSES
from billing_core.payments.stripe_customers import ensure_customer
from billing_core.views import Actor, PaymentMethodView

# ``PaymentMethodService.list`` shadows the builtin inside the class body.
Cards = list[PaymentMethodView]

# How long the cached copy of an account's cards is shown without asking Stripe again: a card
# added or removed in Stripe without a webhook reaching us shows within this.
CARDS_FRESH_FOR = timedelta(seconds=60)


_CARD = PaymentMethodRecord
# The account's cached cards, built once; the join on the caller's contact row is the guard.
_CACHED_CARDS = (
    select(
        AccountRecord.id, AccountRecord.stripe_customer_id, _CARD.stripe_payment_method_id, _CARD.brand,
        _CARD.last4, _CARD.exp_month, _CARD.exp_year, _CARD.is_default, _CARD.refreshed_at,
    )
    .join(
        ContactRecord,
        and_(ContactRecord.account_id == AccountRecord.id, ContactRecord.email == bindparam("email", type_=String)),
    )
    .outerjoin(_CARD, _CARD.account_id == AccountRecord.id)
    .where(AccountRecord.external_id == bindparam("external_id", type_=String))
)  # fmt: skip


def _cached_cards(
    db: Database, actor: Actor, account_external_id: str
) -> tuple[int, str | None, Cards, datetime | None]:
    """(account id, customer id, cached cards, when the oldest was copied from Stripe) in one
    read; the contact join is the guard."""
    if not isinstance(account_external_id, str) or not account_external_id:
        raise AccountNotFound(account_external_id)
    params = {"email": normalize_email(actor.email), "external_id": account_external_id}
    with db.reading() as connection:
        rows = connection.execute(_CACHED_CARDS, params).all()
    if not rows:
        raise AccountNotFound(account_external_id)
    views = [
        PaymentMethodView(id=pm_id, brand=brand, last4=last4, exp_month=month, exp_year=year, is_default=default)
        for _, _, pm_id, brand, last4, month, year, default, _ in rows
        if pm_id is not None
    ]
    views = in_screen_order(views)
    copied = [refreshed for *_, refreshed in rows if refreshed is not None]
    return rows[0][0], rows[0][1], views, min(copied) if copied else None


@dataclass(frozen=True, slots=True)
class CardsCopy:
    """An account's cards as last copied from Stripe (``PaymentMethodService.copy``)."""

    cards: Cards
    stale: bool  # ``current`` asks Stripe first
    refresh: bool  # asked for explicitly: Stripe's failure is raised, not hidden
    account_id: int
    customer_id: str | None


class StripeCardCopy:
    """Asks Stripe for an account's cards when the local copy may lag it (autopay's default card,
    card health before an expiry DM). Quiet when Stripe cannot answer: the copy is used as it is.

    Built before autopay and ``PaymentMethodService`` (which tells autopay of a removed card), so
    neither needs the other to exist first.
    """

    def __init__(self, *, db: Database, clock: Clock, gateway: PaymentGateway) -> None:
        self._db = db
        self._clock = clock
        self._gateway = gateway

    def know_default(self, actor: Actor, account_external_id: str) -> None:
        """Make sure the copy knows the account's default card: when it has none (never copied, or
        the default was set in Stripe), ask Stripe, which is the source of truth. Quiet when Stripe
        cannot answer (the copy is used as it is)."""
        account_id, customer_id, cached, _ = _cached_cards(self._db, actor, account_external_id)
        if customer_id is not None and not any(card.is_default for card in cached):
            with contextlib.suppress(PaymentProviderError):
                refresh_cards(self._db, self._gateway, self._clock, account_id, customer_id)

    def refresh_of(self, account_id: int) -> None:
        """For the bot's own jobs (card health, before an expiry DM): the account's cards as Stripe
        has them now (the card network may have renewed one); quiet when Stripe cannot answer."""
        with self._db.read() as session:
            customer_id = session.scalar(select(AccountRecord.stripe_customer_id).where(AccountRecord.id == account_id))
        if customer_id:
            with contextlib.suppress(PaymentProviderError):
                refresh_cards(self._db, self._gateway, self._clock, account_id, customer_id)

    def know_default_of(self, account_id: int) -> None:
        """For the bot's own jobs (autopay): as ``know_default``, by account id, no membership check."""
        with self._db.read() as session:
            customer_id = session.scalar(select(AccountRecord.stripe_customer_id).where(AccountRecord.id == account_id))
            has_default = session.scalar(
                select(PaymentMethodRecord.id).where(
                    PaymentMethodRecord.account_id == account_id, PaymentMethodRecord.is_default.is_(True)
                )
            )
        if customer_id and has_default is None:
            with contextlib.suppress(PaymentProviderError):
                refresh_cards(self._db, self._gateway, self._clock, account_id, customer_id)


class PaymentMethodService:
    """Card management for an account's billing contacts."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        gateway: PaymentGateway,
        public_url: str,
        after_remove: Callable[[Actor, str], object] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._gateway = gateway
        self._audit = AuditLog(db=db, clock=clock)
        self._public_url = public_url.rstrip("/")
        # Called after a card was removed (autopay turns itself off when no default card is left).
        self._after_remove = after_remove

    def list(
        self, actor: Actor, account_external_id: str, *, refresh: bool = False, max_age: timedelta = CARDS_FRESH_FOR
    ) -> Cards:
        """The account's cards, default first, as Stripe holds them at most ``max_age`` ago
        (``copy`` then ``current``)."""
        return self.current(self.copy(actor, account_external_id, refresh=refresh, max_age=max_age))

    def copy(
        self, actor: Actor, account_external_id: str, *, refresh: bool = False, max_age: timedelta = CARDS_FRESH_FOR
    ) -> CardsCopy:
        """The account's cards as last copied from Stripe (one read; the contact join is the guard),
        and whether ``current`` will ask Stripe: an empty copy, one older than ``max_age``
        (``timedelta(0)``: always) or ``refresh``. A caller may say that this takes a moment."""
        account_id, customer_id, cached, refreshed_at = self._cached(actor, account_external_id)
        stale = customer_id is not None and (refresh or not cached or self._stale(refreshed_at, max_age))
        return CardsCopy(cached if customer_id is not None else [], stale, refresh, account_id, customer_id)

    def current(self, copy: CardsCopy) -> Cards:
        """The cards of ``copy``, asked of Stripe when it is stale. When Stripe cannot answer, a
        ``refresh`` raises; otherwise the copy is shown."""
        if not copy.stale or copy.customer_id is None:
            return copy.cards
        try:
            return refresh_cards(self._db, self._gateway, self._clock, copy.account_id, copy.customer_id)
        except PaymentProviderError:
            if copy.refresh:
                raise
            return copy.cards

    def recheck(self, copy: CardsCopy) -> Cards | None:
        """Ask Stripe for the cards of ``copy`` now (for a background refresh, off the request path)
        and, when they differ from ``copy.cards``, store and return them; else ``None``, with nothing
        written. Quiet when Stripe cannot answer (``None``: the copy stands)."""
        if copy.customer_id is None:
            return None
        try:
            cards, default = fetch_cards(self._gateway, copy.customer_id)
        except PaymentProviderError:
            return None
        if views_of(cards, default) == copy.cards:
            return None  # Stripe agrees: nothing to write (most opens)
        with self._db.transaction() as session:
            session.execute(select(AccountRecord.id).where(AccountRecord.id == copy.account_id).with_for_update())
            fresh = cached_cards(session, copy.account_id)
            # A copy that changed since it was shown (a card webhook, another check) is newer than
            # this answer, read before it: it stays, and is what the person is shown.
            if fresh == copy.cards:
                store_cards(session, copy.account_id, cards, default, self._clock)
                session.flush()
                fresh = cached_cards(session, copy.account_id)
        return None if fresh == copy.cards else fresh

    def _stale(self, refreshed_at: datetime | None, max_age: timedelta) -> bool:
        return refreshed_at is None or self._clock.now() - refreshed_at >= max_age

    def _cached(self, actor: Actor, account_external_id: str) -> tuple[int, str | None, Cards, datetime | None]:
        return _cached_cards(self._db, actor, account_external_id)

    def make_default(self, actor: Actor, account_external_id: str, payment_method_id: str) -> Cards:
        """Make the card the customer's ``invoice_settings.default_payment_method``."""
        account_id, customer_id = self._owned(actor, account_external_id, payment_method_id, "card.make_default")
        self._gateway.set_default_payment_method(customer_id, payment_method_id)
        cards = refresh_cards(self._db, self._gateway, self._clock, account_id, customer_id)
        self._record(actor, account_external_id, "card.make_default", "ok", payment_method_id)
        return cards

    def remove(self, actor: Actor, account_external_id: str, payment_method_id: str) -> Cards:
        """Detach the card from the customer.

        Refused with ``LastPaymentMethodInUse`` for the only card while the account has open
        invoices: those invoices (and their reminders' pay buttons) would become unpayable in
        Slack, and adding a card first then removing the old one costs the person nothing.
        Refused with ``PaymentInProgress`` while an unsettled payment uses the card. When the
        default card goes, the next card becomes the default so payments keep a card to use.
        """
        action = "card.remove"
        account_id, customer_id = self._owned(actor, account_external_id, payment_method_id, action)
        others = [card for card in self._gateway.list_cards(customer_id) if card.id != payment_method_id]
        with self._db.read() as session:
            open_invoices = session.scalar(
                select(func.count(InvoiceRecord.id)).where(
                    InvoiceRecord.account_id == account_id, InvoiceRecord.status == "open"
                )
            )
            in_use = session.scalar(
                select(func.count(PaymentRecord.id)).where(
                    PaymentRecord.account_id == account_id,
                    PaymentRecord.stripe_payment_method_id == payment_method_id,
                    PaymentRecord.status.in_(OPEN_STATUSES),
                )
            )
        if not others and open_invoices:
            self._record(actor, account_external_id, action, "refused", payment_method_id, "last card")
            raise LastPaymentMethodInUse(payment_method_id)
        if in_use:
            self._record(actor, account_external_id, action, "refused", payment_method_id, "payment in progress")
            raise PaymentInProgress(payment_method_id)
        default = self._gateway.default_payment_method(customer_id)
        self._gateway.detach(payment_method_id)
        if others and default in (None, payment_method_id):
            self._gateway.set_default_payment_method(customer_id, others[0].id)
        elif default == payment_method_id:
            self._gateway.set_default_payment_method(customer_id, None)
        cards = refresh_cards(self._db, self._gateway, self._clock, account_id, customer_id)
        self._record(actor, account_external_id, action, "ok", payment_method_id)
        if self._after_remove is not None:
            self._after_remove(actor, account_external_id)
        return cards

    def start_add_card(self, actor: Actor, account_external_id: str) -> str:
        """The URL of a Stripe Checkout page (setup mode) where the person saves a new card.

        The webhook (``checkout.session.completed`` / ``setup_intent.succeeded``) then refreshes
        the cards and tells the requester through ``Notifier.tell_principal`` (``CardAdded``).
        """
        now = self._clock.now()
        with self._db.transaction() as session:
            account = require_account(session, actor, account_external_id)
            account_id = account.id
            setup = CardSetupRecord(
                account_id=account_id,
                requested_by_email=actor.email,
                requested_by_principal=actor.principal,
                status="open",
                created_at=now,
            )
            session.add(setup)
            session.flush()
            setup_id = setup.id
        try:
            customer_id = ensure_customer(self._db, self._gateway, self._clock, account_id)
            checkout = self._gateway.create_setup_checkout(
                customer_id=customer_id,
                success_url=f"{self._public_url}/stripe/card-setup/done",
                cancel_url=f"{self._public_url}/stripe/card-setup/cancelled",
                metadata={"billing_account": account_external_id, "billing_card_setup": str(setup_id)},
            )
        except BillingError:
            with self._db.transaction() as session:
                record = session.get(CardSetupRecord, setup_id)
                if record is not None:
                    record.status = "expired"
            raise
        with self._db.transaction() as session:
            record = session.get(CardSetupRecord, setup_id)
            assert record is not None
            record.checkout_session_id = checkout.id
        self._record(actor, account_external_id, "card.add_started", "ok", checkout.id)
        return checkout.url

    def _owned(self, actor: Actor, account_external_id: str, payment_method_id: str, action: str) -> tuple[int, str]:
        """(account id, customer id) if the card is attached to this account's customer."""
        with self._db.read() as session:
            account = require_account(session, actor, account_external_id)
            account_id, customer_id = account.id, account.stripe_customer_id
        try:
            if customer_id is None or not isinstance(payment_method_id, str):
                raise PaymentMethodNotFound(str(payment_method_id))
            card = self._gateway.retrieve_card(payment_method_id)
            if card.customer_id != customer_id:
                raise PaymentMethodNotFound(payment_method_id)
        except PaymentMethodNotFound:
            self._record(actor, account_external_id, action, "refused", str(payment_method_id)[:255], "not ours")
            raise
        return account_id, customer_id

    def _record(
        self, actor: Actor, account_external_id: str, action: str, outcome: str, target: str, why: str = ""
    ) -> None:
        detail = {"reason": why} if why else None
        self._audit.record(
            actor=actor,
            action=action,
            outcome=outcome,
            account_external_id=account_external_id,
            target=target,
            detail=detail,
        )
