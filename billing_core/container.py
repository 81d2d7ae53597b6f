"""The set of services the entry points (Slack handlers, CLI, scheduler) are handed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing_core.accounts.importer import Importer
from billing_core.accounts.service import AccountService
from billing_core.audit import AuditLog
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.escalations.service import EscalationService
from billing_core.identity.verification import IdentityVerification
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.history import PaymentHistory
from billing_core.payments.methods import PaymentMethodService
from billing_core.payments.service import PaymentService
from billing_core.payments.webhooks import StripeWebhookService


@dataclass
class Services:
    """Built once by ``bot.bootstrap``; handlers get it from the Bolt context."""

    db: Database
    clock: Clock
    accounts: AccountService
    history: PaymentHistory
    audit: AuditLog
    importer: Importer
    # Filled in by the capabilities that own them (payments, escalations, reminders).
    payments: PaymentService = None  # type: ignore[assignment]  # None without STRIPE_API_KEY
    payment_methods: PaymentMethodService = None  # type: ignore[assignment]
    webhooks: StripeWebhookService = None  # type: ignore[assignment]
    escalations: EscalationService = None  # type: ignore[assignment]  # set by bot.bootstrap
    reminders: Any = None
    auth_links: AuthLinks = None  # type: ignore[assignment]  # set with payments
    identity_verification: IdentityVerification = None  # type: ignore[assignment]  # set by bot.bootstrap

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        # Bolt deep-copies the request context for lazy listeners; the services (engine, pools)
        # are shared process-wide, so the copy is the same object.
        return self
