"""``billing-bot autopay run-once``: one autopay pass, then the line ``charged N, declined N, skipped N``."""

from __future__ import annotations

from datetime import datetime

from billing_core.db.schema import require_current_schema
from billing_core.errors import ConfigurationError
from bot.settings import Settings
from bot.slack.operator import operator_services


def run_once(settings: Settings, now: datetime | None) -> str:
    """One pass at ``now`` (default: the current time); its summary line."""
    services = operator_services(settings, now)
    try:
        if services.payments is None:
            raise ConfigurationError("STRIPE_API_KEY is required to charge invoices but is not set")
        require_current_schema(services.db)
        return services.payments.autopay_pass.run().summary()
    finally:
        services.db.dispose()
