"""The composition root: the one place that builds adapters and hands them to services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from billing_core.accounts.importer import Importer
from billing_core.accounts.push import PushService
from billing_core.accounts.service import AccountService
from billing_core.accounts.stripe_billing import StripeBillingSource
from billing_core.audit import AuditLog
from billing_core.autopay.card_health import CardHealth
from billing_core.autopay.charging import AutopayPass
from billing_core.autopay.notices import ContactMessenger
from billing_core.autopay.switch import AutopayService
from billing_core.clock import Clock, SystemClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.errors import ConfigurationError
from billing_core.escalations.mailer import SmtpMailer
from billing_core.escalations.outbox import EscalationOutbox
from billing_core.escalations.service import EscalationService
from billing_core.identity.directory import PrincipalDirectory
from billing_core.identity.verification import GuessingAlert, IdentityVerification
from billing_core.notifications import Notifier, NullNotifier
from billing_core.outbound.delivery import BackoffPolicy, Channel, OutboundDelivery
from billing_core.outbound.email import EmailChannel
from billing_core.outbound.events import OutboundSink
from billing_core.outbound.events import enable as enable_outbound
from billing_core.outbound.webhook import WebhookEndpoint
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.history import PaymentHistory
from billing_core.payments.methods import PaymentMethodService
from billing_core.payments.receipts import RECEIPT, build_receipt_email
from billing_core.payments.refunds import Disputed
from billing_core.payments.service import PaymentService
from billing_core.payments.stripe_gateway import StripeGateway
from billing_core.payments.webhooks import StripeWebhookService
from billing_core.reminders.messages import ReminderSender
from billing_core.reminders.schedule import ReminderSchedule
from billing_core.reminders.service import ReminderService
from billing_core.views import Actor
from bot.oauth import installation_store
from bot.settings import Settings
from bot.slack_autopay_messenger import SlackAutopayMessenger
from bot.slack_reminder_sender import SlackReminderSender, WorkspacesReminderSender, reminder_client
from bot.workspaces import SlackWorkspaces


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    notifier: Notifier | None = None,
    stripe_gateway: StripeGateway | None = None,
    slack_channel: Channel | None = None,
) -> Services:
    """Wire every service from settings. Tests pass their own clock, database or Stripe gateway.

    Payments, cards and the Stripe webhook are only built when ``STRIPE_API_KEY`` is set (or a
    gateway is given); otherwise ``services.payments`` and friends stay ``None``.
    """
    settings.check_identity_policy()
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    accounts = AccountService(db=db, clock=clock, timezone=settings.timezone)
    escalations = build_escalations(settings, db=db, clock=clock, today=accounts.today)
    identity_verification = build_identity_verification(settings, db=db, clock=clock)
    importer = Importer(db=db, clock=clock)
    services = Services(
        db=db,
        clock=clock,
        accounts=accounts,
        history=PaymentHistory(db=db),
        audit=AuditLog(db=db, clock=clock),
        importer=importer,
        escalations=escalations,
        reminders=build_reminders(
            settings, db=db, clock=clock, escalations=escalations, identity_verification=identity_verification
        ),
        identity_verification=identity_verification,
        # The push API (/api/v1) exists only with BILLING_API_TOKEN.
        push=PushService(db=db, clock=clock, importer=importer) if settings.api_tokens() else None,
    )
    gateway = stripe_gateway or build_stripe_gateway(settings)
    if gateway is not None:
        build_payments(services, settings, gateway=gateway, notifier=notifier or NullNotifier())
    build_autopay(services, settings)
    services.identity_verification.alert_staff = lambda alert: alert_staff(services.escalations, alert)
    # "Not me" in a reminder DM: billing staff hear of it like of any other contact-address problem.
    services.reminders.preferences.alert_staff = services.escalations.raise_security_alert
    if services.payments is not None:
        services.payments.reconciler.alert_staff = services.escalations.raise_payment_alert
    if services.webhooks is not None and services.webhooks.refunds is not None:
        services.webhooks.refunds.on_dispute = lambda disputed: dispute_raised(services, disputed)
    services.outbound = build_outbound(settings, db=db, clock=clock, slack_channel=slack_channel)
    return services


def build_outbound(
    settings: Settings, *, db: Database, clock: Clock, slack_channel: Channel | None = None
) -> OutboundDelivery | None:
    """The outbound outbox: events are recorded on ``db`` from now on; a Slack mode ``start()``s delivery.
    ``slack_channel``: the Slack modes' DMs to people (``bot.slack_notices``)."""
    channels: list[Channel] = [slack_channel] if slack_channel is not None else []
    if settings.outbound_webhook_url:
        if not settings.outbound_webhook_url.startswith(("http://", "https://")):
            raise ConfigurationError("OUTBOUND_WEBHOOK_URL must be an http(s) URL")
        if settings.outbound_webhook_secret is None:
            raise ConfigurationError("OUTBOUND_WEBHOOK_SECRET is required when OUTBOUND_WEBHOOK_URL is set")
        secret = settings.outbound_webhook_secret.get_secret_value()
        # Each attempt ends well within the lease, so a live sender is never overtaken.
        total_seconds = settings.outbound_lease_seconds * 2 / 3
        channels.append(WebhookEndpoint(settings.outbound_webhook_url, secret, total_seconds=total_seconds))
    if settings.smtp_url:  # the payer's receipt, from the bot
        mailer = SmtpMailer.from_url(settings.smtp_url.get_secret_value(), ca_file=settings.smtp_ca_file)
        sender = settings.smtp_from
        channels.append(
            EmailChannel(mailer, {RECEIPT: lambda event_id, data: build_receipt_email(event_id, data, sender=sender)})
        )
    if not channels:
        return None
    policy = BackoffPolicy(lease=timedelta(seconds=settings.outbound_lease_seconds))
    delivery = OutboundDelivery(db=db, clock=clock, channels=channels, policy=policy)
    enable_outbound(db, OutboundSink(frozenset(channel.channel for channel in channels), wake=delivery.wake))
    return delivery


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
        trusts_claim=lambda principal: _trusts_claim(settings, principal),
    )


def _trusts_claim(settings: Settings, principal: str) -> bool:
    from handlers.kit.identity import parse_principal

    parsed = parse_principal(principal)
    if parsed is None:
        return settings.trusts_slack_email_of("")
    return settings.trusts_slack_email_of(parsed.team_id) or (
        parsed.enterprise_id is not None and settings.trusts_slack_email_of(parsed.enterprise_id)
    )


def dispute_raised(services: Services, disputed: Disputed) -> None:
    """A payment was disputed: autopay pauses on the account (its contacts are told) and billing
    staff get a request (e-mail and the staff channel)."""
    payment = disputed.payment
    what = f"billing, because the payment of {payment.amount.format()} (payment #{payment.id}) was disputed"
    if services.autopay is not None:
        services.autopay.pause_for_dispute(disputed.account_external_id, what)
    services.escalations.raise_payment_alert(
        disputed.account_external_id,
        f"Payment #{payment.id} of {payment.amount.format()} for {', '.join(payment.invoice_numbers) or '-'} "
        f"(PaymentIntent {payment.stripe_payment_intent_id}) was disputed at Stripe (reason: {disputed.reason}). "
        "Autopay is paused on the account. Answer the dispute in the Stripe Dashboard.",
    )


def alert_staff(escalations: EscalationService, alert: GuessingAlert) -> None:
    """Many wrong codes for one address: an escalation from the bot, by e-mail and in the staff channel."""
    requesters = ", ".join(describe_principal(p) for p in alert.principals[:10]) or "unknown"
    escalations.raise_security_alert(
        alert.email,
        f"{alert.failed_proofs} wrong verification codes were typed for {alert.email} in the last 24 hours, "
        f"by: {requesters}. New codes for this address are being limited. If this was not the contact, "
        "check `billing-bot audit` and consider `billing-bot identities revoke`.",
    )


def build_reminders(
    settings: Settings,
    *,
    db: Database,
    clock: Clock,
    escalations: EscalationService,
    identity_verification: IdentityVerification,
) -> ReminderService:
    """Reminders on the configured schedule, sent through every installed workspace (OAuth) or
    ``SLACK_BOT_TOKEN``'s; without either they can be previewed but not sent."""
    return ReminderService(
        db=db,
        clock=clock,
        schedule=ReminderSchedule.of(settings.reminder_schedule, settings.timezone),
        sender=build_reminder_sender(settings, db=db, clock=clock, needs_proof=identity_verification.needs_code),
        escalator=escalations,
    )


def build_reminder_sender(
    settings: Settings, *, db: Database, clock: Clock, needs_proof: Callable[[Actor], bool]
) -> ReminderSender | None:
    """Who sends reminders: each installed workspace's own installation with OAuth, else the one
    ``SLACK_BOT_TOKEN``. A person who must still prove the contact's address gets no details."""
    if settings.oauth_enabled:
        workspaces = SlackWorkspaces(
            store=installation_store(settings, db.engine),
            client_for_token=lambda token: reminder_client(token, settings.slack_api_url),
        )
        return WorkspacesReminderSender(workspaces, PrincipalDirectory(db, clock), needs_proof=needs_proof)
    if settings.slack_bot_token is None:
        return None
    client = reminder_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    return SlackReminderSender(client, needs_proof=needs_proof)


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
    db, clock = services.db, services.clock
    links = AuthLinks(
        secret=webhook_secret or api_key or "billing-bot-local", base_url=settings.public_url, clock=clock
    )
    source = (
        StripeBillingSource(db=db, clock=clock, gateway=gateway, timezone=settings.timezone)
        if settings.invoice_source == "stripe"
        else None
    )
    payments = PaymentService(
        db=db, clock=clock, gateway=gateway, notifier=notifier, links=links, invoice_source=source
    )
    services.payments = payments
    services.stripe_billing = source
    services.payment_methods = PaymentMethodService(db=db, clock=clock, gateway=gateway, public_url=settings.public_url)
    services.webhooks = StripeWebhookService(
        db=db,
        clock=clock,
        gateway=gateway,
        reconciler=payments.reconciler,
        notifier=notifier,
        secret=webhook_secret,
        invoices=source,
    )
    services.auth_links = links


def build_autopay(services: Services, settings: Settings) -> None:
    """Autopay's switch, its pass (with a Stripe key) and card health on the reminder sweep; their
    DMs go through the reminder sender's workspaces."""
    sender = services.reminders.sender
    messenger = (
        SlackAutopayMessenger(sender) if isinstance(sender, SlackReminderSender | WorkspacesReminderSender) else None
    )
    services.autopay = AutopayService(db=services.db, clock=services.clock)
    if services.payments is not None:
        services.autopay_pass = AutopayPass(
            db=services.db,
            clock=services.clock,
            payments=services.payments,
            timezone=settings.timezone,
        )
    if services.payment_methods is not None:
        services.payment_methods.after_remove = services.autopay.after_card_removed
        services.autopay.know_default = services.payment_methods.know_default
        if services.autopay_pass is not None:
            services.autopay_pass.know_default = services.payment_methods.know_default_of
    services.reminders.card_health = CardHealth(db=services.db, messenger=None)
    if services.payment_methods is not None:
        services.reminders.card_health.refresh_account = services.payment_methods.refresh_of
    use_autopay_messenger(services, messenger)


def use_autopay_messenger(services: Services, messenger: ContactMessenger | None) -> None:
    """Send autopay's DMs (switch, charges, card expiry) through ``messenger``."""
    if services.autopay is not None:
        services.autopay.messenger = messenger
    if services.autopay_pass is not None:
        services.autopay_pass.messenger = messenger
    if services.reminders.card_health is not None:
        services.reminders.card_health.messenger = messenger


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
    from handlers.kit.identity import parse_principal

    slack = parse_principal(principal)
    if slack is not None:
        organization = f" of organization {slack.enterprise_id}" if slack.enterprise_id else ""
        return f"Slack user {slack.user_id} in workspace {slack.team_id}{organization}"
    if principal.startswith("system:"):
        return "raised automatically by the bot"
    return principal
