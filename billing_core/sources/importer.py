"""``billing-bot import``: load accounts, contacts and invoices; all of it or none of it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord, InvoiceRecord
from billing_core.errors import InvalidImport, InvoiceClosedAtSource
from billing_core.identity.emails import normalize_email
from billing_core.sources.closing import free_for_closing
from billing_core.sources.full_ledger import LedgerClosures, close_unlisted
from billing_core.sources.import_format import AccountIn, ImportFile, validate_import
from billing_core.views import ImportSummary

Progress = Callable[[int], None]
T = TypeVar("T")
_CHUNK = 500


def _table(record: type[Any]) -> Table:
    table = record.__table__
    assert isinstance(table, Table)
    return table


def _chunks(items: list[T], size: int = _CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_import_file(path: Path) -> object:
    """Read and decode a file; an unreadable or non-JSON file is an ``InvalidImport``."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidImport([("(file)", f"cannot read {path}: {error.strerror}")]) from error
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidImport([("(file)", "is not UTF-8 text")]) from error
    except json.JSONDecodeError as error:
        raise InvalidImport([("(file)", f"is not valid JSON: {error.msg} at line {error.lineno}")]) from error


class Importer:
    """Validates a whole import file, then applies it in one transaction.

    Importing the same file twice changes nothing; a changed file updates in place. Invoices
    that are missing from the file are left alone. Contacts missing from an account in the file
    are removed from it, so that a person the vendor took off an account loses access.
    """

    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def validate(self, data: object) -> ImportFile:
        """The parsed file, or ``InvalidImport`` listing every problem with its path."""
        parsed, problems = validate_import(data)
        if parsed is None:
            raise InvalidImport(problems)
        return parsed

    def run(
        self,
        data: object,
        *,
        progress: Progress | None = None,
        full: bool = False,
        source: str = "import",
        keep_unlisted_contacts: bool = False,
    ) -> ImportSummary:
        """Validate and apply; ``progress`` is called with the number of invoices handled.

        ``full``: the file lists every open invoice of its accounts; an open one it does not list
        is closed as its ``closed_as`` says (``import --full``). ``keep_unlisted_contacts``: an
        account given without ``contacts`` keeps the ones it has (the push API).
        """
        parsed = self.validate(data)
        if full and parsed.closed_as is None:
            raise InvalidImport([("closed_as", "is required with --full: 'paid_elsewhere' or 'void'")])
        now = self._clock.now()
        counts: dict[str, int] = {}
        closures = LedgerClosures()
        with self._db.transaction() as session:
            accounts = self._apply_accounts(session, parsed.accounts, now, counts)
            self._apply_contacts(session, parsed.accounts, accounts, counts, keep_unlisted_contacts)
            self._apply_invoices(session, parsed.accounts, accounts, now, counts, progress)
            if full and parsed.closed_as is not None:
                closures = close_unlisted(session, parsed, accounts, how=parsed.closed_as, now=now)
                counts["invoices_closed"] = len(closures.closed)
            add_audit_event(session, at=now, actor=None, action=source, outcome="ok", detail=dict(counts))
        extra = {k: v for k, v in counts.items() if k not in _KNOWN}
        known = {k: v for k, v in counts.items() if k in _KNOWN}
        return ImportSummary(
            **known,
            extra=extra,
            closed=tuple(closures.closed),
            left_open=tuple(closures.left_open),
            closed_as=parsed.closed_as if full else None,
        )

    def _apply_accounts(
        self, session: Session, items: list[AccountIn], now: datetime, counts: dict[str, int]
    ) -> dict[str, AccountRecord]:
        ids = [a.id for a in items]
        existing: dict[str, AccountRecord] = {}
        for chunk in _chunks(ids):
            for found in session.scalars(select(AccountRecord).where(AccountRecord.external_id.in_(chunk))):
                existing[found.external_id] = found
        new_rows: list[dict[str, Any]] = []
        for item in items:
            record = existing.get(item.id)
            if record is None:
                new_rows.append(
                    {
                        "external_id": item.id,
                        "name": item.name,
                        "currency": item.currency,
                        "stripe_customer_id": item.stripe_customer_id,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                _bump(counts, "accounts_created")
                continue
            changed = record.name != item.name or record.currency != item.currency
            # An absent stripe_customer_id keeps the one the bot created when first needed.
            if item.stripe_customer_id and item.stripe_customer_id != record.stripe_customer_id:
                record.stripe_customer_id = item.stripe_customer_id
                changed = True
            if changed:
                record.name, record.currency, record.updated_at = item.name, item.currency, now
                _bump(counts, "accounts_updated")
            else:
                _bump(counts, "accounts_unchanged")
        session.flush()
        if new_rows:
            session.execute(insert(_table(AccountRecord)), new_rows)
            for chunk in _chunks([row["external_id"] for row in new_rows]):
                for found in session.scalars(select(AccountRecord).where(AccountRecord.external_id.in_(chunk))):
                    existing[found.external_id] = found
        return existing

    def _apply_contacts(
        self,
        session: Session,
        items: list[AccountIn],
        accounts: dict[str, AccountRecord],
        counts: dict[str, int],
        keep_unlisted: bool = False,
    ) -> None:
        if keep_unlisted:
            items = [item for item in items if "contacts" in item.model_fields_set]
        account_ids = [accounts[item.id].id for item in items]
        existing: dict[tuple[int, str], ContactRecord] = {}
        for chunk in _chunks(account_ids):
            for stored in session.scalars(select(ContactRecord).where(ContactRecord.account_id.in_(chunk))):
                existing[(stored.account_id, stored.email)] = stored
        wanted: set[tuple[int, str]] = set()
        new_rows: list[dict[str, Any]] = []
        for item in items:
            account_id = accounts[item.id].id
            for contact in item.contacts:
                key = (account_id, normalize_email(contact.email))
                wanted.add(key)
                record = existing.get(key)
                if record is None:
                    new_rows.append({"account_id": account_id, "email": key[1], "name": contact.name})
                    _bump(counts, "contacts_created")
                elif record.name != contact.name:
                    record.name = contact.name
                    _bump(counts, "contacts_updated")
                else:
                    _bump(counts, "contacts_unchanged")
        stale = [record.id for key, record in existing.items() if key not in wanted]
        for chunk in _chunks(stale):
            session.execute(delete(ContactRecord).where(ContactRecord.id.in_(chunk)))
        if stale:
            counts["contacts_removed"] = len(stale)
        if new_rows:
            session.execute(insert(_table(ContactRecord)), new_rows)

    def _apply_invoices(
        self,
        session: Session,
        items: list[AccountIn],
        accounts: dict[str, AccountRecord],
        now: datetime,
        counts: dict[str, int],
        progress: Progress | None,
    ) -> None:
        account_ids = [accounts[item.id].id for item in items]
        existing: dict[tuple[int, str], Any] = {}
        columns = (
            InvoiceRecord.id,
            InvoiceRecord.account_id,
            InvoiceRecord.number,
            InvoiceRecord.issued_on,
            InvoiceRecord.due_on,
            InvoiceRecord.amount_due_minor,
            InvoiceRecord.amount_paid_minor,
            InvoiceRecord.currency,
            InvoiceRecord.status,
            InvoiceRecord.description,
            InvoiceRecord.document_url,
            InvoiceRecord.payment_lock_id,
        )
        for chunk in _chunks(account_ids):
            for stored in session.execute(select(*columns).where(InvoiceRecord.account_id.in_(chunk))):
                existing[(stored.account_id, stored.number)] = stored
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        handled = 0
        for item in items:
            account_id = accounts[item.id].id
            for invoice in item.invoices:
                handled += 1
                if progress and handled % 1000 == 0:
                    progress(handled)
                wanted = {
                    "issued_on": invoice.issued_on,
                    "due_on": invoice.due_on,
                    "amount_due_minor": invoice.amount_due,
                    "currency": invoice.currency,
                    "status": invoice.status,
                    "description": invoice.description,
                    "document_url": invoice.document_url,
                }
                row = existing.get((account_id, invoice.number))
                if row is None:
                    paid = invoice.amount_due if invoice.status == "paid" else 0
                    inserts.append(
                        wanted
                        | {
                            "account_id": account_id,
                            "number": invoice.number,
                            "amount_paid_minor": paid,
                            "paid_at": now if invoice.status == "paid" else None,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    _bump(counts, "invoices_created")
                    continue
                if row.status == "paid" and invoice.status == "open" and row.amount_paid_minor >= row.amount_due_minor:
                    # Paid here (through the bot) after the file was exported: reopening it
                    # would invite a second payment. Keep it paid; billing staff see the count.
                    wanted["status"] = "paid"
                    _bump(counts, "invoices_kept_paid")
                if all(getattr(row, key) == value for key, value in wanted.items()):
                    _bump(counts, "invoices_unchanged")
                    continue
                change = wanted | {"id": row.id, "updated_at": now}
                if wanted["status"] != row.status:
                    change["closed_as"] = None
                    if (
                        row.status == "open"
                        and row.payment_lock_id is not None
                        and not _released(session, row.id, invoice.number, str(wanted["status"]), now)
                    ):
                        change["status"] = "open"  # a charge through the bot is under way: it decides
                        _bump(counts, "invoices_left_open")
                if wanted["status"] == "paid" and row.status != "paid":
                    change["amount_paid_minor"] = invoice.amount_due
                    change["paid_at"] = now
                updates.append(change)
                _bump(counts, "invoices_updated")
        invoice_table = _table(InvoiceRecord)
        for batch in _chunks(inserts, 5000):
            # Core executemany: the ORM would fetch every new primary key back, row by row.
            session.execute(insert(invoice_table), batch)
        for batch in _chunks(updates, 5000):
            session.execute(update(InvoiceRecord), batch)
        if progress:
            progress(handled)


_KNOWN = frozenset(name for name, spec in ImportSummary.__dataclass_fields__.items() if spec.type == "int")


def _released(session: Session, invoice_id: int, number: str, status: str, now: datetime) -> bool:
    """Whether a payment through the bot that holds the invoice was cancelled before its charge."""
    invoice = session.get(InvoiceRecord, invoice_id)
    assert invoice is not None
    how = "void" if status == "void" else "paid_elsewhere"
    sentence = InvoiceClosedAtSource(number, how, now.date()).sentence()
    return free_for_closing(session, invoice, now=now, reason=f"{sentence}; nothing was charged.")


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def count_invoices(data: Iterable[AccountIn]) -> int:
    return sum(len(account.invoices) for account in data)
