"""``billing-bot reminders run-once`` and ``reminders preview``: what they do and print."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from billing_core.db.schema import require_current_schema
from billing_core.reminders.messages import ReminderMessage
from billing_core.reminders.service import ReminderService
from bot.settings import Settings
from bot.slack.operator import operator_services


def _with_reminders(settings: Settings, now: datetime | None, use: Callable[[ReminderService], list[str]]) -> list[str]:
    services = operator_services(settings, now)
    try:
        require_current_schema(services.db)
        reminders: ReminderService = services.reminders
        return use(reminders)
    finally:
        services.db.dispose()


def run_once(settings: Settings, now: datetime | None) -> list[str]:
    """One sweep; the lines to print, the last being ``sent N, skipped N, failed N`` counting DMs."""

    def sweep(reminders: ReminderService) -> list[str]:
        reminders.expire_stale_claims()
        result = reminders.run_sweep()
        return [
            result.reminders_summary(),
            f"postponed: {result.postponed} (outside the recipient's working hours, or rate limited)",
            f"paid, thank you: {result.thanked} reminder(s) updated",
            f"escalated to billing support: {result.escalated}",
            *result.notes,
            result.summary(),
        ]

    return _with_reminders(settings, now, sweep)


def preview(settings: Settings, now: datetime | None, *, limit: int = 500) -> list[str]:
    """What a sweep would send, one line per DM, without sending or writing anything."""

    def plan(reminders: ReminderService) -> list[str]:
        planned = reminders.preview(limit=limit)
        today = reminders.window().today
        lines = []
        for dm in planned:
            message = ReminderMessage(dm.step, dm.email, dm.lines, today=today)
            invoices = ", ".join(
                f"{line.invoice_number} ({line.account_external_id}, {line.amount.format()}, "
                f"due {line.due_on.isoformat()}, {message.when(line)})"
                for line in dm.lines
            )
            lines.append(f"{dm.email}: {message.when_all()}: {invoices}")
        count = sum(len(dm.lines) for dm in planned)
        more = f" (first {limit} DMs shown)" if len(planned) >= limit else ""
        lines.append(
            f"would send {count} reminder(s) in {len(planned)} DM(s){more}; "
            "working hours and workspace membership are checked when sending"
        )
        return lines

    return _with_reminders(settings, now, plan)
