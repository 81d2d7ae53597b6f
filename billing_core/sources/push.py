"""The push API's use cases (``/api/v1``): the vendor's systems upsert accounts, contacts and
invoices in the import file's shapes, void an invoice, and report one paid outside Slack.

Every call is idempotent: the same request again changes nothing (``changed`` is false). Every
body is checked whole before anything is written, and each problem names its field path as the
import does (``invoices[0].amount_due``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord, InvoiceRecord
from billing_core.errors import AccountNotFound, InvalidImport, InvoiceNotFound
from billing_core.identity.emails import normalize_email
from billing_core.sources.closing import PaidElsewhere, close_paid_elsewhere, close_void
from billing_core.sources.import_format import check_invoices, validate_model
from billing_core.sources.importer import Importer
from billing_core.sources.push_format import AccountsIn, ContactsIn, InvoicesIn, PaidElsewhereIn
from billing_core.views import ImportSummary

API_SOURCE = "api"


class PushService:
    """What ``/api/v1`` does, one transaction per call. Raises ``InvalidImport`` (a bad body, with
    every problem's path), ``AccountNotFound`` / ``InvoiceNotFound``, and from ``closing``
    ``ClosedOtherwise`` / ``ChargeUnderWay``."""

    def __init__(self, *, db: Database, clock: Clock, importer: Importer) -> None:
        self._db = db
        self._clock = clock
        self._importer = importer

    def upsert_accounts(self, data: object) -> ImportSummary:
        """Accounts as in the import file; an account given without ``contacts`` keeps its own."""
        _checked(AccountsIn, data)
        return self._importer.run(data, source="api.accounts", keep_unlisted_contacts=True)

    def upsert_invoices(self, account_id: str, data: object) -> ImportSummary:
        """Add or update invoices of an existing account, by number; others are left alone."""
        external_id, name, currency = self._account(account_id)
        problems = _problems(InvoicesIn, data) + check_invoices(data, currency)
        if problems:
            raise InvalidImport(sorted(set(problems)))
        assert isinstance(data, dict)
        wrapped = {"accounts": [{"id": external_id, "name": name, "currency": currency, "invoices": data["invoices"]}]}
        return self._importer.run(wrapped, source="api.invoices", keep_unlisted_contacts=True)

    def upsert_contacts(self, account_id: str, data: object) -> int:
        """Add or rename billing contacts of an account (none is removed); how many changed."""
        parsed = _checked(ContactsIn, data)
        _no_duplicates(parsed)
        for attempt in range(2):  # a concurrent call may insert the same contact first
            try:
                with self._db.transaction() as session:
                    return self._apply_contacts(session, account_id, parsed)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _apply_contacts(self, session: Session, account_id: str, parsed: ContactsIn) -> int:
        account = _account_in(session, account_id)
        stored = {
            c.email: c for c in session.scalars(select(ContactRecord).where(ContactRecord.account_id == account.id))
        }
        changed = 0
        for contact in parsed.contacts:
            email = normalize_email(contact.email)
            record = stored.get(email)
            if record is None:
                session.add(ContactRecord(account_id=account.id, email=email, name=contact.name))
                changed += 1
            elif record.name != contact.name:
                record.name = contact.name
                changed += 1
        session.flush()
        if changed:
            add_audit_event(
                session,
                at=self._clock.now(),
                actor=None,
                action="api.contacts",
                outcome="ok",
                account_id=account.id,
                detail={"changed": changed},
            )
        return changed

    def void(self, account_id: str, number: str) -> bool:
        """Void an open invoice: reminders and autopay stop at once. False when already void."""
        with self._db.transaction() as session:
            invoice = _locked_invoice(session, account_id, number)
            return close_void(session, invoice, now=self._clock.now())

    def paid_elsewhere(self, account_id: str, number: str, data: object) -> bool:
        """Close an open invoice as paid outside Slack (reminders and autopay stop at once, the
        books hear ``invoice.paid_elsewhere``). False when the same report was applied before."""
        parsed = _checked(PaidElsewhereIn, data)
        with self._db.transaction() as session:
            invoice = _locked_invoice(session, account_id, number)
            if parsed.currency != invoice.currency:
                message = f"{parsed.currency!r} differs from the invoice's {invoice.currency!r}"
                raise InvalidImport([("currency", message)])
            report = PaidElsewhere(
                amount_minor=parsed.amount,
                currency=parsed.currency,
                method=parsed.method,
                reference=parsed.reference,
                paid_on=parsed.paid_on,
                source=API_SOURCE,
            )
            return close_paid_elsewhere(session, invoice, report, now=self._clock.now())

    def _account(self, account_id: str) -> tuple[str, str, str]:
        with self._db.read() as session:
            account = _account_in(session, account_id)
            return account.external_id, account.name, account.currency


def _problems(model: type[Any], data: object) -> list[tuple[str, str]]:
    return validate_model(model, data)[1]


def _checked(model: type[Any], data: object) -> Any:
    parsed, problems = validate_model(model, data)
    if parsed is None:
        raise InvalidImport(problems)
    return parsed


def _no_duplicates(parsed: ContactsIn) -> None:
    seen: set[str] = set()
    for index, contact in enumerate(parsed.contacts):
        email = normalize_email(contact.email)
        if email in seen:
            raise InvalidImport([(f"contacts[{index}].email", f"duplicate contact {email!r}")])
        seen.add(email)


def _account_in(session: Session, account_id: str) -> AccountRecord:
    account = session.scalars(select(AccountRecord).where(AccountRecord.external_id == account_id)).first()
    if account is None:
        raise AccountNotFound(account_id)
    return account


def _locked_invoice(session: Session, account_id: str, number: str) -> InvoiceRecord:
    """The invoice, after taking its row's write lock (a no-op UPDATE first: SQLite takes its write
    lock only on the first write, and a read before it could be stale)."""
    account = _account_in(session, account_id)
    session.execute(
        update(InvoiceRecord)
        .where(InvoiceRecord.account_id == account.id, InvoiceRecord.number == number)
        .values(updated_at=InvoiceRecord.updated_at)
        .execution_options(synchronize_session=False)
    )
    invoice = session.scalars(
        select(InvoiceRecord)
        .where(InvoiceRecord.account_id == account.id, InvoiceRecord.number == number)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if invoice is None:
        raise InvoiceNotFound(number)
    return invoice
