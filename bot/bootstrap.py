"""The composition root: the one place that builds adapters and hands them to services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billing_core.clock import Clock, SystemClock
from billing_core.db.database import Database
from billing_core.services.accounts import AccountService
from billing_core.services.audit import AuditLog
from billing_core.services.container import Services
from billing_core.services.history import PaymentHistory
from billing_core.services.importer import Importer
from bot.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from billing_core.services.escalations import EscalationService


def build_services(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Services:
    """Wire every service from settings. Tests pass their own clock or database."""
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    services = Services(
        db=db,
        clock=clock,
        accounts=AccountService(db=db, clock=clock, timezone=settings.timezone),
        history=PaymentHistory(db=db),
        audit=AuditLog(db=db, clock=clock),
        importer=Importer(db=db, clock=clock),
    )
    services.escalations = build_escalations(settings, db=db, clock=clock, today=services.accounts.today)
    return services


def build_escalations(
    settings: Settings, *, db: Database, clock: Clock, today: Callable[[], date]
) -> EscalationService:
    """The escalation service and its outbox, mailing through ``SMTP_URL`` when it is set."""
    from billing_core.mailer import SmtpMailer
    from billing_core.services.escalation_outbox import EscalationOutbox
    from billing_core.services.escalations import EscalationService

    mailer = SmtpMailer.from_url(settings.smtp_url.get_secret_value()) if settings.smtp_url else None
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
