"""Every payment made through the bot, row by row, for the vendor's books (README,
"Payments export").

The rows are streamed with a server-side cursor (``stream_results`` + ``yield_per``): a million
payments need no more memory than ten. Invoice numbers come from the same ordered query (one row
per payment and invoice, grouped as they arrive), so no per-payment lookup is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, InvoiceRecord, PaymentInvoiceRecord, PaymentRecord
from billing_core.payments.states import payment_state, payment_state_sql

COLUMNS: tuple[str, ...] = (
    "payment_id",
    "created_at",
    "settled_at",
    "status",
    "account_id",
    "account_name",
    "invoices",
    "amount",
    "currency",
    "stripe_payment_intent_id",
    "paid_by",
    "source",
)

BATCH = 2000


class ExportRow(NamedTuple):
    """One payment as the books see it, in the contract's column order (a tuple: cheap to stream);
    ``as_dict`` gives the contract's keys in order."""

    payment_id: int
    created_at: str
    settled_at: str
    status: str
    account_id: str
    account_name: str
    invoices: str
    amount: int
    currency: str
    stripe_payment_intent_id: str
    paid_by: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(COLUMNS, self, strict=True))


def iso_utc(moment: datetime | None) -> str:
    """``2026-11-25T10:00:00Z``; empty for none."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@dataclass(frozen=True, slots=True)
class ExportWindow:
    """``created_at`` bounds in UTC: ``since`` inclusive, ``until`` exclusive (the next day's start)."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def of_dates(cls, since: date | None, until: date | None, zone: tzinfo) -> ExportWindow:
        """Dates in the billing time zone, ``until`` inclusive (the whole day)."""
        start = datetime.combine(since, time(0), zone).astimezone(UTC) if since else None
        end = datetime.combine(until + timedelta(days=1), time(0), zone).astimezone(UTC) if until else None
        return cls(start, end)


class PaymentExport:
    """Reads payments for the export, oldest first, in constant memory."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def count(self, window: ExportWindow) -> int:
        """How many payments ``rows(window)`` will yield (for a progress bar)."""
        statement = _filtered(select(func.count(PaymentRecord.id)), window)
        with self._db.reading() as connection:
            return int(connection.execute(statement).scalar_one())

    def rows(self, window: ExportWindow = ExportWindow()) -> Iterator[ExportRow]:
        """Every payment in ``window``, ordered by id, with its invoice numbers."""
        dialect = self._db.dialect
        statement = _filtered(
            select(
                PaymentRecord.id,
                _iso(PaymentRecord.created_at, dialect),
                _iso(PaymentRecord.settled_at, dialect),
                payment_state_sql(),
                AccountRecord.external_id,
                AccountRecord.name,
                InvoiceRecord.number,
                PaymentRecord.amount_minor,
                PaymentRecord.currency,
                PaymentRecord.stripe_payment_intent_id,
                PaymentRecord.started_by_email,
                PaymentRecord.source,
            )
            .join(AccountRecord, AccountRecord.id == PaymentRecord.account_id)
            .outerjoin(PaymentInvoiceRecord, PaymentInvoiceRecord.payment_id == PaymentRecord.id)
            .outerjoin(InvoiceRecord, InvoiceRecord.id == PaymentInvoiceRecord.invoice_id)
            .order_by(PaymentRecord.id),  # a payment's invoice numbers are sorted here (a handful)
            window,
        )
        as_text = dialect in _SQL_ISO
        with self._db.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(statement)
            current: Any = None
            numbers: list[str] = []
            for row in result:
                if current is None or row[0] != current[0]:
                    if current is not None:
                        yield _row(current, numbers, as_text)
                    current = row
                    numbers = []
                if row[6] is not None:
                    numbers.append(row[6])
            if current is not None:
                yield _row(current, numbers, as_text)


_SQL_ISO = {
    # Stored as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (billing_core.db.base.UtcDateTime).
    "sqlite": lambda column: func.strftime("%Y-%m-%dT%H:%M:%SZ", column),
    "postgresql": lambda column: func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
}


def _iso(column: Any, dialect: str) -> Any:
    """``column`` as ISO-8601 UTC text made by the database (parsing timestamps costs more than the
    rest of a row); the column itself where the dialect has no such function (formatted in Python)."""
    make = _SQL_ISO.get(dialect)
    return make(column) if make else column


def export_row(session: Session, payment: PaymentRecord) -> ExportRow:
    """The export's row for one payment as ``session`` sees it (also an event's ``data``)."""
    account = session.get(AccountRecord, payment.account_id)
    assert account is not None
    numbers = session.scalars(
        select(InvoiceRecord.number)
        .join(PaymentInvoiceRecord, PaymentInvoiceRecord.invoice_id == InvoiceRecord.id)
        .where(PaymentInvoiceRecord.payment_id == payment.id)
        .order_by(InvoiceRecord.number)
    )
    values = [
        payment.id,
        payment.created_at,
        payment.settled_at,
        payment_state(payment.status, payment.amount_minor, payment.refunded_minor or 0, payment.dispute_status),
        account.external_id,
        account.name,
        None,
        payment.amount_minor,
        payment.currency,
        payment.stripe_payment_intent_id,
        payment.started_by_email,
        payment.source or "slack",
    ]
    return _row(values, list(numbers))


def _filtered(statement: Any, window: ExportWindow) -> Any:
    if window.since is not None:
        statement = statement.where(PaymentRecord.created_at >= window.since)
    if window.until is not None:
        statement = statement.where(PaymentRecord.created_at < window.until)
    return statement


def _row(values: Any, numbers: list[str], as_text: bool = False) -> ExportRow:
    created, settled = (values[1], values[2] or "") if as_text else (iso_utc(values[1]), iso_utc(values[2]))
    if len(numbers) > 1:
        numbers.sort()
    return ExportRow(
        values[0],
        created,
        settled,
        values[3],
        values[4],
        values[5],
        " ".join(numbers),
        int(values[7]),
        values[8],
        values[9] or "",
        values[10].strip().lower(),  # as stored from Slack; e-mails match case-insensitively
        values[11],
    )
