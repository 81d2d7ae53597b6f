"""The App Home's read model: everything a customer's Home shows, in one statement.

The Home used to ask four services in turn (the caller's accounts and open invoices, the person's
reminder preferences, the card copy, the autopay switch): four statements per open. They all hang
off the caller's contact rows, so one statement reads them together: per member account its open
invoices (as ``AccountService.caller_with_open_invoices``), the person's preference row, the
autopay switch and the default card. As there, the join on the caller's contact row is the guard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, bindparam, select
from sqlalchemy.orm import aliased

from billing_core.accounts.service import INVOICE_COLUMNS, LAST_ISSUED, invoice_from_row, open_summary
from billing_core.autopay.switch import AutopayStatus
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    AutopayRecord,
    ContactPreferenceRecord,
    ContactRecord,
    InvoiceRecord,
    PaymentMethodRecord,
    PrincipalRecord,
)
from billing_core.errors import NotABillingContact
from billing_core.identity.emails import normalize_email
from billing_core.reminders.preferences import ContactPreference
from billing_core.views import Actor, CallerContext, InvoiceView, PaymentMethodView

_EMAIL = bindparam("email", type_=String)
_PRINCIPAL = bindparam("principal", type_=String)
_CARD = aliased(PaymentMethodRecord)
_HOME = (
    select(
        AccountRecord.id,
        AccountRecord.external_id,
        AccountRecord.name,
        AccountRecord.currency,
        AccountRecord.stripe_customer_id,
        select(PrincipalRecord.active_account_id).where(PrincipalRecord.principal == _PRINCIPAL).scalar_subquery(),
        ContactPreferenceRecord.reminders_stopped_at,
        ContactPreferenceRecord.not_me_at,
        AutopayRecord.enabled,
        AutopayRecord.changed_by_email,
        AutopayRecord.changed_at,
        _CARD.stripe_payment_method_id,
        _CARD.brand,
        _CARD.last4,
        _CARD.exp_month,
        _CARD.exp_year,
        InvoiceRecord.collection_method,
        # The e-mail this principal proved (IDENTITY_VERIFICATION=email_code), read along.
        select(PrincipalRecord.verified_email).where(PrincipalRecord.principal == _PRINCIPAL).scalar_subquery(),
        *INVOICE_COLUMNS,
    )
    .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
    .outerjoin(ContactPreferenceRecord, ContactPreferenceRecord.contact_id == ContactRecord.id)
    .outerjoin(AutopayRecord, AutopayRecord.account_id == AccountRecord.id)
    .outerjoin(_CARD, and_(_CARD.account_id == AccountRecord.id, _CARD.is_default.is_(True)))
    .outerjoin(InvoiceRecord, and_(InvoiceRecord.account_id == AccountRecord.id, InvoiceRecord.status == "open"))
    .where(ContactRecord.email == _EMAIL)
    .order_by(AccountRecord.name, AccountRecord.id, _CARD.id, InvoiceRecord.due_on, InvoiceRecord.number)
)
_INVOICE_AT = 18  # where the invoice columns start in a row of _HOME


@dataclass
class _Account:
    external_id: str
    name: str
    currency: str
    customer_id: str | None
    first: Any  # the account's first row: its preference, autopay and default card
    invoices: list[InvoiceView] = field(default_factory=list)
    numbers: set[str] = field(default_factory=set)
    collected_by_stripe: int = 0


@dataclass(frozen=True, slots=True)
class HomeRead:
    """What a customer's Home shows, read together."""

    caller: CallerContext
    invoices: list[InvoiceView]  # the active account's open invoices, oldest due first
    preferences: list[ContactPreference]  # every member account's, by account name
    autopay: AutopayStatus  # the active account's, from the copy
    # The copy knows no default card of a Stripe customer: autopay's card must be asked of Stripe
    # (``AutopayService.status`` does) before ``autopay`` can be shown.
    default_card_unknown: bool
    # The e-mail the caller's principal has proven (``IdentityVerification.proven_by`` checks it).
    proven_email: str | None = None


class HomeReads:
    def __init__(self, *, db: Database, today: Callable[[], date]) -> None:
        self._db = db
        self._today = today

    def read(self, actor: Actor) -> HomeRead:
        """The Home of ``actor``; ``NotABillingContact`` if they are no contact.

        One statement, plus a second only for a contact of several accounts who has not picked one
        yet (the active account is then the one with the most recently issued invoice)."""
        today = self._today()
        accounts: dict[int, _Account] = {}
        params = {"email": normalize_email(actor.email), "principal": actor.principal}
        with self._db.reading() as connection:
            rows = connection.execute(_HOME, params).all()
            for row in rows:
                entry = accounts.get(row[0])
                if entry is None:
                    entry = accounts[row[0]] = _Account(row[1], row[2], row[3], row[4], row)
                number = row[_INVOICE_AT]
                # Two default cards (never written so, but not a constraint) would repeat the rows.
                if number is not None and number not in entry.numbers:
                    entry.numbers.add(number)
                    entry.invoices.append(invoice_from_row(entry.external_id, row[_INVOICE_AT:], today))
                    entry.collected_by_stripe += row[16] == "charge_automatically"
            if not accounts:
                raise NotABillingContact(actor.email)
            active_id = rows[0][5]
            if active_id not in accounts:
                if len(accounts) == 1:
                    active_id = next(iter(accounts))
                else:
                    found = connection.execute(LAST_ISSUED, {"account_ids": list(accounts)}).all()
                    last: dict[int, date | None] = {account_id: issued for account_id, issued in found}
                    active_id = max(accounts, key=lambda i: (last.get(i) or date.min, accounts[i].external_id))
        views = {i: open_summary(a.external_id, a.name, a.currency, a.invoices) for i, a in accounts.items()}
        caller = CallerContext(actor=actor, accounts=tuple(views.values()), active=views[active_id])
        active = accounts[active_id]
        preferences = sorted(
            (
                ContactPreference(
                    a.external_id, a.name, a.first[6] is None and a.first[7] is None, a.first[7] is not None
                )
                for a in accounts.values()
            ),
            key=lambda p: (p.account_name, p.account_external_id),
        )
        return HomeRead(
            caller=caller,
            invoices=active.invoices,
            preferences=preferences,
            autopay=_autopay(active),
            default_card_unknown=active.customer_id is not None and active.first[11] is None,
            proven_email=rows[0][17],
        )


def _autopay(account: _Account) -> AutopayStatus:
    enabled, changed_by, changed_at, card_id, brand, last4, month, year = account.first[8:16]
    card = (
        None
        if card_id is None
        else PaymentMethodView(id=card_id, brand=brand, last4=last4, exp_month=month, exp_year=year, is_default=True)
    )
    changed: datetime | None = changed_at
    return AutopayStatus(
        account_external_id=account.external_id,
        account_name=account.name,
        enabled=bool(enabled),
        card=card,
        changed_by=changed_by or "",
        changed_at=changed,
        collected_by_stripe=account.collected_by_stripe,
    )
