"""The composition root: the one place that builds adapters and hands them to services."""

from __future__ import annotations

from billing_core.clock import Clock, SystemClock
from billing_core.db.database import Database
from billing_core.services.accounts import AccountService
from billing_core.services.audit import AuditLog
from billing_core.services.container import Services
from billing_core.services.history import PaymentHistory
from billing_core.services.importer import Importer
from bot.settings import Settings


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
    return services
