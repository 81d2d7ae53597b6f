"""The set of services the entry points (Slack handlers, CLI, scheduler) are handed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing_core.accounts.importer import Importer
from billing_core.accounts.push import PushService
from billing_core.accounts.service import AccountService
from billing_core.accounts.stripe_billing import StripeBillingSource
from billing_core.audit import AuditLog
from billing_core.autopay.charging import AutopayPass
from billing_core.autopay.switch import AutopayService
from billing_core.chat_questions import ChatQuestions
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.escalations.service import EscalationService
from billing_core.identity.verification import IdentityVerification
from billing_core.outbound.delivery import OutboundDelivery
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.history import PaymentHistory
from billing_core.payments.methods import PaymentMethodService
from billing_core.payments.service import PaymentService
from billing_core.payments.webhooks import StripeWebhookService
from billing_core.reminders.service import ReminderService


@dataclass
class Services:
    """Built once by ``bot.compose``; handlers get it from the Bolt context.

    Payments, cards, the Stripe webhook and the authentication links exist only with a Stripe
    key (``STRIPE_API_KEY``): without one they are ``None`` and every use checks.
    """

    db: Database
    clock: Clock
    accounts: AccountService
    history: PaymentHistory
    audit: AuditLog
    importer: Importer
    escalations: EscalationService
    reminders: ReminderService
    identity_verification: IdentityVerification
    payments: PaymentService | None = None
    payment_methods: PaymentMethodService | None = None
    webhooks: StripeWebhookService | None = None
    auth_links: AuthLinks | None = None
    autopay: AutopayService | None = None
    autopay_pass: AutopayPass | None = None
    # Signed webhook events (OUTBOUND_WEBHOOK_URL) and receipts: None when neither is configured.
    outbound: OutboundDelivery | None = None
    # The push API for the vendor's systems (/api/v1): None without BILLING_API_TOKEN.
    push: PushService | None = None
    # Stripe Billing as the source of invoices (INVOICE_SOURCE=stripe, with a Stripe key); else None.
    stripe_billing: StripeBillingSource | None = None
    # What chat asked each person last (built from ``db`` and ``clock`` when not given).
    chat_questions: ChatQuestions | None = None

    def __post_init__(self) -> None:
        if self.chat_questions is None:
            self.chat_questions = ChatQuestions(self.db, self.clock)

    def chargeable_autopay(self) -> AutopayService | None:
        """Autopay, when something could be charged (a Stripe key gave it its pass); else None."""
        return self.autopay if self.autopay_pass is not None else None

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        # Bolt deep-copies the request context for lazy listeners; the services (engine, pools)
        # are shared process-wide, so the copy is the same object.
        return self
