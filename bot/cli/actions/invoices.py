"""``billing-bot invoices sync [--since DATE]``: bring the bot's invoices up to date with the Stripe
Billing invoices of its customers (``INVOICE_SOURCE=stripe``), after downtime or missed webhooks."""

from __future__ import annotations

from datetime import date

from billing_core.db.schema import require_current_schema
from billing_core.errors import ConfigurationError
from bot.compose import build_services
from bot.settings import Settings


def sync(settings: Settings, since: date | None) -> str:
    """One sync; its summary line."""
    if settings.invoice_source != "stripe":
        raise ConfigurationError("invoices sync needs INVOICE_SOURCE=stripe (invoices come from imports and the API)")
    settings.require("STRIPE_API_KEY")
    services = build_services(settings)
    try:
        source = services.payments.stripe_billing if services.payments is not None else None
        if source is None:
            raise ConfigurationError("STRIPE_API_KEY is required for INVOICE_SOURCE=stripe but is not set")
        require_current_schema(services.db)
        return source.sync(since).line()
    finally:
        services.db.dispose()
