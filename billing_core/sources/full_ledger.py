"""``import --full``: the file is the complete list of open invoices of the accounts it names, so
an open invoice it no longer lists was settled in the vendor's books: close it as the file's
``closed_as`` says (paid outside Slack, or void)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.accounts.invoice_state import PAID_ELSEWHERE
from billing_core.db.tables import AccountRecord, InvoiceRecord
from billing_core.errors import ChargeUnderWay
from billing_core.sources.closing import PaidElsewhere, close_paid_elsewhere, close_void
from billing_core.sources.import_format import ImportFile

FULL_LEDGER_METHOD = "full ledger import"


@dataclass
class LedgerClosures:
    """Invoice numbers closed, and those left open because a charge through the bot is under way."""

    closed: list[str] = field(default_factory=list)
    left_open: list[str] = field(default_factory=list)


def close_unlisted(
    session: Session,
    parsed: ImportFile,
    accounts: dict[str, AccountRecord],
    *,
    how: str,
    now: datetime,
) -> LedgerClosures:
    """Close every open invoice of the file's accounts that the file does not list."""
    result = LedgerClosures()
    for item in parsed.accounts:
        account = accounts[item.id]
        listed = {invoice.number for invoice in item.invoices}
        stale = session.scalars(
            select(InvoiceRecord)
            .where(InvoiceRecord.account_id == account.id, InvoiceRecord.status == "open")
            .order_by(InvoiceRecord.number)
        ).all()
        for invoice in stale:
            if invoice.number in listed:
                continue
            try:
                if how == PAID_ELSEWHERE:
                    report = PaidElsewhere(
                        amount_minor=max(0, invoice.amount_due_minor - invoice.amount_paid_minor),
                        currency=invoice.currency,
                        method=FULL_LEDGER_METHOD,
                        reference="",
                        paid_on=now.date(),
                        source="import",
                    )
                    close_paid_elsewhere(session, invoice, report, now=now)
                else:
                    close_void(session, invoice, now=now)
            except ChargeUnderWay:
                result.left_open.append(invoice.number)
                continue
            result.closed.append(invoice.number)
    return result
