"""The composition root: the one place that builds adapters and hands them to services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from billing_core.accounts.importer import Importer
from billing_core.accounts.service import AccountService
from billing_core.audit import AuditLog
from billing_core.clock import Clock, SystemClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.escalations.mailer import SmtpMailer
from billing_core.escalations.outbox import EscalationOutbox
from billing_core.escalations.service import EscalationService
from billing_core.identity.verification import IdentityVerification
from billing_core.notifications import Notifier, NullNotifier
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.history import PaymentHistory
from billing_core.payments.methods import PaymentMethodService
from billing_core.payments.service import PaymentService
from billing_core.payments.stripe_gateway import StripeGateway
from billing_core.payments.webhooks import StripeWebhookService
from billing_core.reminders.schedule import ReminderSchedule
from billing_core.reminders.service import ReminderService
from bot.settings import Settings
from bot.slack_reminder_sender import build_reminder_sender


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    notifier: Notifier | None = None,
    stripe_gateway: StripeGateway | None = None,
) -> Services:
    """Wire every service from settings. Tests pass their own clock, database or Stripe gateway.

    Payments, cards and the Stripe webhook are only built when ``STRIPE_API_KEY`` is set (or a
    gateway is given); otherwise ``services.payments`` and friends stay ``None``.
    """
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    accounts = AccountService(db=db, clock=clock, timezone=settings.timezone)
    escalations = build_escalations(settings, db=db, clock=clock, today=accounts.today)
    services = Services(
        db=db,
        clock=clock,
        accounts=accounts,
        history=PaymentHistory(db=db),
        audit=AuditLog(db=db, clock=clock),
        importer=Importer(db=db, clock=clock),
        escalations=escalations,
        reminders=build_reminders(settings, db=db, clock=clock, escalations=escalations),
        identity_verification=build_identity_verification(settings, db=db, clock=clock),
    )
    gateway = stripe_gateway or build_stripe_gateway(settings)
    if gateway is not None:
        build_payments(services, settings, gateway=gateway, notifier=notifier or NullNotifier())
    return services


def build_identity_verification(settings: Settings, *, db: Database, clock: Clock) -> IdentityVerification:
    """Proof of e-mail ownership (``IDENTITY_VERIFICATION``); codes go out through ``SMTP_URL``."""
    mailer = (
        SmtpMailer.from_url(settings.smtp_url.get_secret_value(), ca_file=settings.smtp_ca_file)
        if settings.smtp_url
        else None
    )
    key_source = settings.slack_signing_secret or settings.slack_client_secret or settings.slack_bot_token
    return IdentityVerification(
        db=db,
        clock=clock,
        mode=settings.identity_verification_mode,
        mailer=mailer,
        sender=settings.smtp_from,
        key=key_source.get_secret_value() if key_source else "billing-bot-local",
    )


def build_reminders(
    settings: Settings, *, db: Database, clock: Clock, escalations: EscalationService
) -> ReminderService:
    """Reminders on the configured schedule; they can send only when ``SLACK_BOT_TOKEN`` is set."""
    sender = None
    if settings.slack_bot_token is not None:
        sender = build_reminder_sender(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    return ReminderService(
        db=db,
        clock=clock,
        schedule=ReminderSchedule.of(settings.reminder_schedule, settings.timezone),
        sender=sender,
        escalator=escalations,
    )


def build_stripe_gateway(settings: Settings) -> StripeGateway | None:
    """The Stripe gateway for ``STRIPE_API_KEY`` at ``STRIPE_API_BASE``; None without a key."""
    if settings.stripe_api_key is None:
        return None
    return StripeGateway(
        settings.stripe_api_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        connect_timeout=5.0,
        read_timeout=20.0,
        max_network_retries=0,  # a retry is a decision for reconcile, never a blind re-send
    )


def build_payments(services: Services, settings: Settings, *, gateway: StripeGateway, notifier: Notifier) -> None:
    """Fill ``services.payments``, ``.payment_methods`` and ``.webhooks``."""
    webhook_secret = settings.stripe_webhook_secret.get_secret_value() if settings.stripe_webhook_secret else None
    api_key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else ""
    links = AuthLinks(secret=webhook_secret or api_key or "billing-bot-local", base_url=settings.public_url)
    db, clock = services.db, services.clock
    payments = PaymentService(db=db, clock=clock, gateway=gateway, notifier=notifier, links=links)
    services.payments = payments
    services.payment_methods = PaymentMethodService(db=db, clock=clock, gateway=gateway, public_url=settings.public_url)
    services.webhooks = StripeWebhookService(
        db=db, clock=clock, gateway=gateway, reconciler=payments.reconciler,
        notifier=notifier, secret=webhook_secret,
    )
    services.auth_links = links


def build_escalations(
    settings: Settings, *, db: Database, clock: Clock, today: Callable[[], date]
) -> EscalationService:
    """The escalation service and its outbox, mailing through ``SMTP_URL`` when it is set."""
    mailer = (
        SmtpMailer.from_url(settings.smtp_url.get_secret_value(), ca_file=settings.smtp_ca_file)
        if settings.smtp_url
        else None
    )
    outbox = EscalationOutbox(
        db=db,
        clock=clock,
        mailer=mailer,
        sender=settings.smtp_from,
        recipient=settings.support_email,
        today=today,
        describe_principal=describe_principal,
        support_channel=settings.support_slack_channel,
    )
    return EscalationService(db=db, clock=clock, outbox=outbox, today=today, describe_principal=describe_principal)


def describe_principal(principal: str) -> str:
    """How support reads a principal: ``slack:T1:U1`` -> ``Slack user U1 in workspace T1``."""
    parts = principal.split(":")
    if len(parts) == 3 and parts[0] == "slack":
        return f"Slack user {parts[2]} in workspace {parts[1]}"
    if principal.startswith("system:"):
        return "raised automatically by the bot"
    return principal
