"""What services hand to their callers: plain, frozen values. No records, no sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

from billing_core.money import Money

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a verified e-mail plus an opaque principal (``slack:T1:U1``)."""

    email: str
    principal: str
    display_name: str = ""
    # From another organization (Slack Connect, a stranger): must prove the e-mail in any mode.
    external: bool = False


@dataclass(frozen=True, slots=True)
class AccountView:
    external_id: str
    name: str
    currency: str
    balance: Money
    open_invoice_count: int
    next_due_on: date | None
    overdue_count: int = 0


@dataclass(frozen=True, slots=True)
class InvoiceView:
    number: str
    account_external_id: str
    issued_on: date
    due_on: date
    amount_due: Money
    amount_paid: Money
    status: str
    description: str
    overdue: bool
    payment_in_progress: bool = False
    document_url: str | None = None  # the invoice's PDF or hosted page, when the import gave one
    # Closed where it lives (paid_elsewhere / void / uncollectible) and on which day, when known.
    closed_as: str | None = None
    closed_on: date | None = None

    @property
    def outstanding(self) -> Money:
        return self.amount_due - self.amount_paid


@dataclass(frozen=True, slots=True)
class PaymentMethodView:
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool

    @property
    def label(self) -> str:
        return f"{self.brand.title()} •••• {self.last4} (exp {self.exp_month:02d}/{self.exp_year % 100:02d})"


@dataclass(frozen=True, slots=True)
class PaidElsewhereView:
    """An invoice the vendor reported paid outside Slack (not a payment the bot collected)."""

    invoice_number: str
    amount: Money
    method: str
    reference: str
    paid_on: date


@dataclass(frozen=True, slots=True)
class PaymentView:
    id: int
    account_external_id: str
    amount: Money
    status: str
    created_at: datetime
    invoice_numbers: tuple[str, ...]
    card_brand: str | None = None
    card_last4: str | None = None
    failure_reason: str | None = None
    action_url: str | None = None
    settled_at: datetime | None = None
    stripe_payment_intent_id: str | None = None
    receipt_url: str | None = None  # Stripe's receipt page, when it gave one
    # ``status``, or after it succeeded what Stripe said since: refunded, partially_refunded, disputed.
    state: str = ""
    refunded: Money | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page: int
    page_size: int
    total: int

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 0


@dataclass(frozen=True, slots=True)
class CallerContext:
    """Everything a screen needs about the caller: their accounts and which one is active."""

    actor: Actor
    accounts: tuple[AccountView, ...]
    active: AccountView

    def account(self, external_id: str) -> AccountView | None:
        return next((a for a in self.accounts if a.external_id == external_id), None)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    accounts_created: int = 0
    accounts_updated: int = 0
    accounts_unchanged: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    contacts_unchanged: int = 0
    invoices_created: int = 0
    invoices_updated: int = 0
    invoices_unchanged: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    # ``import --full``: how unlisted open invoices were closed, which were, and which were left
    # open because a payment through the bot was already being charged.
    closed_as: str | None = None
    closed: tuple[str, ...] = ()
    left_open: tuple[str, ...] = ()
