"""The composition root: the one place that builds adapters and services, each once, by constructor.

``build_services`` builds the services (every entry point); ``build_runtime`` builds the Slack modes'
runtime around them (workspaces, notifier, Bolt app). Nothing is assigned on a service afterwards
(``tests/unit/test_composition.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from slack_bolt import App
from slack_sdk import WebClient

from billing_core.accounts.service import AccountService
from billing_core.adapters.smtp import SmtpMailer
from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.adapters.threads import ThreadBackground
from billing_core.adapters.webhook_http import WebhookEndpoint
from billing_core.audit import AuditLog
from billing_core.autopay.card_health import CardHealth
from billing_core.autopay.charging import AutopayPass
from billing_core.autopay.notices import ContactMessenger
from billing_core.autopay.switch import AutopayService
from billing_core.background import Background
from billing_core.chat_answers import ChatAnswers
from billing_core.chat_questions import ChatQuestions
from billing_core.clock import Clock, SystemClock
from billing_core.container import Payments, Services
from billing_core.db.database import Database
from billing_core.errors import ConfigurationError
from billing_core.escalations.outbox import EscalationOutbox, StaffChannel
from billing_core.escalations.service import EscalationService
from billing_core.escalations.threads import SupportThreads
from billing_core.home import HomeReads
from billing_core.identity.directory import PrincipalDirectory
from billing_core.identity.principal import SlackPrincipal, describe_principal
from billing_core.identity.verification import GuessingAlert, IdentityVerification
from billing_core.notifications import Notifier, NullNotifier
from billing_core.outbound.delivery import BackoffPolicy, Channel, OutboundDelivery
from billing_core.outbound.email import EmailChannel
from billing_core.outbound.events import OutboundSink
from billing_core.outbound.events import enable as enable_outbound
from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.dm_threads import PaymentDmThreads
from billing_core.payments.history import PaymentHistory
from billing_core.payments.methods import PaymentMethodService, StripeCardCopy
from billing_core.payments.ports import PaymentGateway
from billing_core.payments.receipts import RECEIPT, build_receipt_email
from billing_core.payments.refunds import Disputed
from billing_core.payments.service import PaymentService
from billing_core.payments.webhooks import StripeWebhookService
from billing_core.reminders.messages import ReminderSender
from billing_core.reminders.schedule import ReminderSchedule
from billing_core.reminders.service import ReminderService
from billing_core.sources.importer import Importer
from billing_core.sources.push import PushService
from billing_core.sources.stripe_billing import StripeBillingSource
from billing_core.staff.desk import StaffDesk
from billing_core.views import Actor
from bot.settings import Settings
from bot.slack.app import build_slack_app
from bot.slack.autopay_messenger import SlackAutopayMessenger
from bot.slack.client import make_web_client
from bot.slack.notices import NoticeOutbox, SlackNoticeChannel
from bot.slack.notifier import SlackNotifier
from bot.slack.oauth import installation_store
from bot.slack.rate_limits import RateLimits
from bot.slack.reminder_sender import SlackReminderSender, WorkspacesReminderSender, reminder_client
from bot.slack.seen_people import SeenPeople
from bot.slack.workspace_leases import WorkspaceLeases
from bot.slack.workspaces import SlackWorkspaces, slack_workspaces
from handlers.escalations.listeners import slack_staff_channel
from handlers.home.publisher import HomePublisher
from handlers.kit.identity import IdentityResolver


@dataclass(frozen=True)
class Foundation:
    """The services that send nothing to a person themselves (they hand notices to ports), built
    first: ``build_runtime`` builds the Home publisher from them before the notifier that calls it,
    then the rest of the services around that notifier."""

    settings: Settings
    clock: Clock
    db: Database
    background: Background
    accounts: AccountService
    escalations: EscalationService
    identity_verification: IdentityVerification
    importer: Importer
    sender: ReminderSender | None
    messenger: ContactMessenger | None
    gateway: PaymentGateway | None
    copy: StripeCardCopy | None
    autopay: AutopayService
    home: HomeReads

    @property
    def chargeable_autopay(self) -> AutopayService | None:
        """Autopay when something could be charged (a Stripe key); as ``Services.chargeable_autopay``."""
        return self.autopay if self.gateway is not None else None


def build_foundation(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    stripe_gateway: PaymentGateway | None = None,
    staff_channel: StaffChannel | None = None,
    contact_messenger: ContactMessenger | None = None,
    background: Background | None = None,
) -> Foundation:
    """The first half of ``build_services``: escalations first (identity, reminders and payments
    alert staff through them), then autopay, asking Stripe for a default card through
    ``StripeCardCopy``, before the card service (built in the second half, it tells autopay of a
    removed card)."""
    settings.check_identity_policy()
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    background = background or ThreadBackground()
    accounts = AccountService(db=db, clock=clock, timezone=settings.timezone)
    escalations = build_escalations(
        settings, db=db, clock=clock, background=background, today=accounts.today, staff_channel=staff_channel
    )
    identity_verification = build_identity_verification(settings, db=db, clock=clock, escalations=escalations)
    sender = build_reminder_sender(settings, db=db, clock=clock, needs_proof=identity_verification.needs_code)
    messenger = contact_messenger or (
        SlackAutopayMessenger(sender) if isinstance(sender, SlackReminderSender | WorkspacesReminderSender) else None
    )
    gateway = stripe_gateway or build_stripe_gateway(settings)
    copy = StripeCardCopy(db=db, clock=clock, gateway=gateway) if gateway is not None else None
    return Foundation(
        settings=settings,
        clock=clock,
        db=db,
        background=background,
        accounts=accounts,
        escalations=escalations,
        identity_verification=identity_verification,
        importer=Importer(db=db, clock=clock),
        sender=sender,
        messenger=messenger,
        gateway=gateway,
        copy=copy,
        autopay=AutopayService(
            db=db, clock=clock, messenger=messenger, know_default=copy.know_default if copy is not None else None
        ),
        home=HomeReads(db=db, today=accounts.today),
    )


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    notifier: Notifier | None = None,
    stripe_gateway: PaymentGateway | None = None,
    staff_channel: StaffChannel | None = None,
    contact_messenger: ContactMessenger | None = None,
    outbound: OutboundDelivery | None = None,
    background: Background | None = None,
) -> Services:
    """Build every service from settings, each once, with all it needs passed to its constructor.

    Payments, cards and the Stripe webhook are only built when ``STRIPE_API_KEY`` is set (or a
    gateway is given). Tests pass their own clock, database or Stripe gateway; the Slack modes
    pass their notifier (DMs to payers), the staff channel (escalations posted in
    ``SUPPORT_SLACK_CHANNEL``) and the outbound delivery holding their DM channel
    (``build_runtime``). ``contact_messenger``: who tells contacts of autopay and expiring
    cards (default: Slack DMs through the reminder sender, when there is one). ``background``:
    where escalation e-mails and outbound deliveries run (default: threads).
    """
    foundation = build_foundation(
        settings,
        clock=clock,
        db=db,
        stripe_gateway=stripe_gateway,
        staff_channel=staff_channel,
        contact_messenger=contact_messenger,
        background=background,
    )
    return services_on(foundation, notifier=notifier, outbound=outbound)


def services_on(
    foundation: Foundation, *, notifier: Notifier | None = None, outbound: OutboundDelivery | None = None
) -> Services:
    """The second half of ``build_services``: payments around the ``notifier``, reminders, and the rest."""
    f = foundation
    settings, db, clock = f.settings, f.db, f.clock
    payments = (
        build_payments(
            settings,
            db=db,
            clock=clock,
            gateway=f.gateway,
            notifier=notifier or NullNotifier(),
            escalations=f.escalations,
            accounts=f.accounts,
            autopay=f.autopay,
            messenger=f.messenger,
            copy=f.copy,
        )
        if f.gateway is not None and f.copy is not None
        else None
    )
    card_health = CardHealth(
        db=db, messenger=f.messenger, refresh_account=f.copy.refresh_of if f.copy is not None else None
    )
    reminders = ReminderService(
        db=db,
        clock=clock,
        schedule=ReminderSchedule.of(settings.reminder_schedule, settings.timezone),
        sender=f.sender,
        escalator=f.escalations,
        card_health=card_health,
        # "Not me" in a reminder DM: billing staff hear of it like of any other contact-address problem.
        alert_staff=f.escalations.raise_security_alert,
    )
    return Services(
        db=db,
        clock=clock,
        accounts=f.accounts,
        history=PaymentHistory(db=db),
        audit=AuditLog(db=db, clock=clock),
        importer=f.importer,
        escalations=f.escalations,
        reminders=reminders,
        identity_verification=f.identity_verification,
        chat_questions=ChatQuestions(db, clock),
        chat_answers=ChatAnswers(db, clock),
        autopay=f.autopay,
        home=f.home,
        payments=payments,
        outbound=outbound or build_outbound(settings, db=db, clock=clock, background=f.background),
        # The push API (/api/v1) exists only with BILLING_API_TOKEN.
        push=PushService(db=db, clock=clock, importer=f.importer) if settings.api_tokens() else None,
        staff=StaffDesk(db=db, clock=clock, timezone=settings.timezone, promises=reminders.promises, sender=f.sender),
    )


def build_outbound(
    settings: Settings,
    *,
    db: Database,
    clock: Clock,
    background: Background,
    slack_channel: Channel | None = None,
    poll_seconds: float = 3.0,
) -> OutboundDelivery | None:
    """The outbound outbox: events are recorded on ``db`` from now on; a Slack mode ``start()``s delivery
    (its loop and per-channel lanes run on ``background``). ``slack_channel``: the Slack modes' DMs to
    people (``bot.slack.notices``). ``poll_seconds``: how often it looks for retries and other
    processes' events between wake-ups."""
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
    delivery = OutboundDelivery(
        db=db, clock=clock, background=background, channels=channels, policy=policy, poll_seconds=poll_seconds
    )
    enable_outbound(db, OutboundSink(frozenset(channel.channel for channel in channels), wake=delivery.wake))
    return delivery


def build_identity_verification(
    settings: Settings, *, db: Database, clock: Clock, escalations: EscalationService | None = None
) -> IdentityVerification:
    """Proof of e-mail ownership (``IDENTITY_VERIFICATION``); codes go out through ``SMTP_URL``.
    Many wrong codes for one address are raised to billing staff through ``escalations``."""
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
        claim_trust=settings.claim_trust(),
        alert_staff=partial(alert_staff, escalations) if escalations is not None else None,
    )


def dispute_raised(autopay: AutopayService, escalations: EscalationService, disputed: Disputed) -> None:
    """A payment was disputed: autopay pauses on the account (its contacts are told) and billing
    staff get a request (e-mail and the staff channel)."""
    payment = disputed.payment
    what = f"billing, because the payment of {payment.amount.format()} (payment #{payment.id}) was disputed"
    autopay.pause_for_dispute(disputed.account_external_id, what)
    escalations.raise_payment_alert(
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
        return WorkspacesReminderSender(workspaces, PrincipalDirectory(db, clock), needs_proof=needs_proof, db=db)
    if settings.slack_bot_token is None:
        return None
    client = reminder_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    limits = RateLimits()
    leases = WorkspaceLeases(db, recent=limits.recent)  # one process at a time sends in the workspace
    return SlackReminderSender(client, needs_proof=needs_proof, limits=limits, leases=leases)


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


def build_payments(
    settings: Settings,
    *,
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    notifier: Notifier,
    escalations: EscalationService,
    accounts: AccountService,
    autopay: AutopayService,
    messenger: ContactMessenger | None,
    copy: StripeCardCopy,
) -> Payments:
    """What a Stripe key brings: payments, cards, the Stripe webhook, the authentication links
    and autopay's pass (its charges)."""
    webhook_secret = settings.stripe_webhook_secret.get_secret_value() if settings.stripe_webhook_secret else None
    api_key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else ""
    links = AuthLinks(
        secret=webhook_secret or api_key or "billing-bot-local", base_url=settings.public_url, clock=clock
    )
    source = (
        StripeBillingSource(db=db, clock=clock, gateway=gateway, timezone=settings.timezone)
        if settings.invoice_source == "stripe"
        else None
    )
    payments = PaymentService(
        db=db,
        clock=clock,
        gateway=gateway,
        notifier=notifier,
        links=links,
        invoice_source=source,
        alert_staff=escalations.raise_payment_alert,
        accounts=accounts,
    )
    return Payments(
        service=payments,
        methods=PaymentMethodService(
            db=db, clock=clock, gateway=gateway, public_url=settings.public_url, after_remove=autopay.after_card_removed
        ),
        webhooks=StripeWebhookService(
            db=db,
            clock=clock,
            gateway=gateway,
            reconciler=payments.reconciler,
            notifier=notifier,
            secret=webhook_secret,
            invoices=source,
            on_dispute=partial(dispute_raised, autopay, escalations),
            on_unattended_refund=autopay.tell_refund,
        ),
        auth_links=links,
        autopay_pass=AutopayPass(
            db=db,
            clock=clock,
            payments=payments,
            timezone=settings.timezone,
            messenger=messenger,
            know_default=copy.know_default_of,
        ),
        stripe_billing=source,
    )


def build_escalations(
    settings: Settings,
    *,
    db: Database,
    clock: Clock,
    background: Background,
    today: Callable[[], date],
    staff_channel: StaffChannel | None = None,
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
        background=background,  # the e-mail right after an escalation is stored
        mailer=mailer,
        sender=settings.smtp_from,
        recipient=settings.support_email,
        today=today,
        describe_principal=describe_principal,
        support_channel=settings.support_slack_channel,
        staff_channel=staff_channel,
    )
    return EscalationService(
        db=db,
        clock=clock,
        outbox=outbox,
        today=today,
        describe_principal=describe_principal,
        threads=SupportThreads(db=db, clock=clock, staff_name=settings.support_staff_name),
    )


@dataclass
class SlackRuntime:
    services: Services
    app: App
    notifier: SlackNotifier
    workspaces: SlackWorkspaces
    seen: SeenPeople  # where people used the bot, written in batches; flushed at shutdown


def build_runtime(
    settings: Settings,
    *,
    socket_mode: bool = False,
    clock: Clock | None = None,
    db: Database | None = None,
    identity: IdentityResolver | None = None,
    stripe_gateway: PaymentGateway | None = None,
    notifier_executor: Executor | None = None,
    listener_executor: Executor | None = None,
) -> SlackRuntime:
    """The whole Slack side (``serve``, ``socket``, the console), built once in order: the
    workspaces (each one's installation), the staff channel, the services that send nothing, the
    Home publisher on them, the DM channel and the notifier (which republish a person's Home after
    a DM), the rest of the services, then the Bolt app."""
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    default_client = make_web_client(settings) if not settings.oauth_enabled else None
    store = installation_store(settings, db.engine) if settings.oauth_enabled else None
    workspaces = slack_workspaces(settings, store=store, default_client=default_client)
    background = ThreadBackground()
    foundation = build_foundation(
        settings,
        clock=clock,
        db=db,
        stripe_gateway=stripe_gateway,
        # The outbox posts escalations to the support channel through its own workspace's installation.
        staff_channel=slack_staff_channel(settings.support_slack_channel, workspaces.support_client),
        background=background,
    )
    seen = SeenPeople(PrincipalDirectory(db, clock))
    identity = identity or IdentityResolver(on_resolved=seen.saw)
    home = HomePublisher(
        identity=identity,
        reads=foundation.home,
        proof=foundation.identity_verification,
        autopay=foundation.chargeable_autopay,
        support_email=settings.support_email,
    )

    def refresh_home(client: WebClient, slack: SlackPrincipal) -> None:
        home.publish(client, slack.team_id, slack.user_id, slack.enterprise_id)

    # People's DMs (outcomes, cards added, refunds and disputes in the receipt's thread) go
    # through the database outbox (bot.slack.notices).
    threads = PaymentDmThreads(db)
    outbound = build_outbound(
        settings,
        db=db,
        clock=clock,
        background=background,
        slack_channel=SlackNoticeChannel(workspaces.client_for, after=refresh_home, threads=threads),
    )
    notifier = SlackNotifier(
        workspaces.client_for,
        executor=notifier_executor,
        outbox=NoticeOutbox(db, clock, delivery=outbound),
        refresh_home=refresh_home,
        threads=threads,
    )
    services = services_on(foundation, notifier=notifier, outbound=outbound)
    app, _deps = build_slack_app(
        services,
        settings,
        client=default_client,
        socket_mode=socket_mode,
        identity=identity,
        store=store,
        workspaces=workspaces,
        seen=seen,
        listener_executor=listener_executor,
        home_publisher=home,
    )
    return SlackRuntime(services=services, app=app, notifier=notifier, workspaces=workspaces, seen=seen)
