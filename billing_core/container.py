"""The set of services the entry points (Slack handlers, CLI, scheduler) are handed.

What is always there is a field of ``Services``; each optional capability is one typed object
that is there or not: ``Payments`` (with a Stripe key), ``outbound`` (with a webhook URL, SMTP or
a Slack mode), ``push`` (with ``BILLING_API_TOKEN``). Everything is built once, by
``bot.compose``, and never changed afterwards (the dataclasses are frozen).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from billing_core.accounts.service import AccountService
from billing_core.audit import AuditLog
from billing_core.autopay.charging import AutopayPass
from billing_core.autopay.switch import AutopayService
from billing_core.chat_answers import ChatAnswers
from billing_core.chat_questions import ChatQuestions
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.errors import PaymentsUnavailable
from billing_core.escalations.service import EscalationService
from billing_core.home import HomeReads
from billing_core.identity.verification import IdentityVerification
from billing_core.outbound.delivery import OutboundDelivery
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.history import PaymentHistory
from billing_core.payments.methods import PaymentMethodService
from billing_core.payments.reconcile import ReconcileSummary
from billing_core.payments.service import PaymentService
from billing_core.payments.webhooks import StripeWebhookService
from billing_core.reminders.service import ReminderService
from billing_core.sources.importer import Importer
from billing_core.sources.push import PushService
from billing_core.sources.stripe_billing import StripeBillingSource
from billing_core.staff.desk import StaffDesk


@dataclass(frozen=True)
class Payments:
    """What a Stripe key (``STRIPE_API_KEY``) brings: paying, saved cards, the Stripe webhook, the
    links of payments that need authentication, and autopay's charges."""

    service: PaymentService
    methods: PaymentMethodService
    webhooks: StripeWebhookService
    auth_links: AuthLinks
    autopay_pass: AutopayPass
    # Stripe Billing as the source of invoices (INVOICE_SOURCE=stripe); else None.
    stripe_billing: StripeBillingSource | None = None

    def reconcile(self) -> ReconcileSummary:
        """The reconcile pass (the scheduler's job, ``billing-bot payments reconcile``): open payments
        settled by asking Stripe for their own intents, then the refund and dispute events Stripe
        made lately that no webhook brought, applied as their webhook would be, once."""
        summary = self.service.reconcile()
        caught = self.webhooks.catch_up()
        return replace(summary, errors=summary.errors + caught.errors, refunds_and_disputes=caught.applied)


@dataclass(frozen=True)
class Services:
    """Built once by ``bot.compose``; handlers get it from the Bolt context."""

    db: Database
    clock: Clock
    accounts: AccountService
    history: PaymentHistory
    audit: AuditLog
    importer: Importer
    escalations: EscalationService
    reminders: ReminderService
    identity_verification: IdentityVerification
    # What chat asked each person last.
    chat_questions: ChatQuestions
    # Which messages in the app's DM were answered (an edit of one that was not is answered once).
    chat_answers: ChatAnswers
    # Autopay's switch (it charges only with ``payments``: see ``chargeable_autopay``).
    autopay: AutopayService
    # What a customer's App Home shows, in one read.
    home: HomeReads
    # Payments and cards: None without a Stripe key (``require_payments`` says so).
    payments: Payments | None = None
    # Signed webhook events (OUTBOUND_WEBHOOK_URL) and receipts: None when neither is configured.
    outbound: OutboundDelivery | None = None
    # The push API for the vendor's systems (/api/v1): None without BILLING_API_TOKEN.
    push: PushService | None = None
    # Billing staff's receivables desk (the App Home of the support channel's members).
    staff: StaffDesk | None = None

    def require_payments(self) -> Payments:
        """Payments and cards; ``PaymentsUnavailable`` (told to people as "payments are not set
        up") without a Stripe key."""
        if self.payments is None:
            raise PaymentsUnavailable()
        return self.payments

    def chargeable_autopay(self) -> AutopayService | None:
        """Autopay, when something could be charged (a Stripe key gave it its pass); else None."""
        return self.autopay if self.payments is not None else None

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        # Bolt deep-copies the request context for lazy listeners; the services (engine, pools)
        # are shared process-wide, so the copy is the same object.
        return self
