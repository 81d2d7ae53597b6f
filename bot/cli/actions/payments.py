"""``billing-bot payments show`` and ``billing-bot webhooks retry``: operator views of the outbox."""

from __future__ import annotations

from datetime import datetime

from billing_core.db.database import Database
from billing_core.errors import ConfigurationError
from billing_core.payments.inspection import PaymentDossier, PaymentInspection
from bot.compose import build_services, build_stripe_gateway
from bot.settings import Settings


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


def dossier_lines(dossier: PaymentDossier) -> list[str]:
    """One ``name: value`` line per fact, then one line per outbound delivery."""
    row = dossier.row
    lines = [f"{name}: {value}" for name, value in row.as_dict().items()]
    lines += [
        f"card: {dossier.card}",
        f"failure_reason: {dossier.failure_reason or '-'}",
        f"submitted_at: {_when(dossier.submitted_at)}",
        f"idempotency_key: {dossier.idempotency_key}",
        f"receipt_url: {dossier.receipt_url or '-'}",
        f"stripe_status: {dossier.stripe_status}",
        f"deliveries: {len(dossier.deliveries)}",
    ]
    for d in dossier.deliveries:
        outcome = f"HTTP {d.last_status}" if d.last_status else (d.last_error or "")
        lines.append(
            f"  {d.event_id} {d.type} via {d.channel}: {d.status} after {d.attempts} attempt(s)"
            f" (created {_when(d.created_at)}, delivered {_when(d.delivered_at)},"
            f" next {_when(d.next_attempt_at)}){' ' + outcome if outcome else ''}"
        )
    return lines


def show_payment(settings: Settings, payment_id: int) -> list[str]:
    db = Database(settings.database_url)
    try:
        return dossier_lines(PaymentInspection(db, build_stripe_gateway(settings)).show(payment_id))
    finally:
        db.dispose()


def retry_events(settings: Settings, *, event_id: str | None, failed: bool) -> str:
    """Make the events due again and try them once now; a one-line summary."""
    services = build_services(settings)
    try:
        outbound = services.outbound
        if outbound is None:
            raise ConfigurationError("OUTBOUND_WEBHOOK_URL (or SMTP_URL for receipts) is not set")
        queued = outbound.retry(event_id=event_id, failed=failed)
        if queued == 0:
            return "no event to retry" if failed else f"no event {event_id} to retry"
        counts = outbound.deliver_due()
        return f"re-queued {queued}; delivered {counts.delivered}, retrying {counts.retried}, failed {counts.failed}"
    finally:
        if services.outbound is not None:
            services.outbound.stop()
        services.db.dispose()
