"""Who the caller is billing contact for, which account is active, what is open and owed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, Select, String, and_, bindparam, case, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from billing_core.access import require_account
from billing_core.audit import add_audit_event
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    ContactRecord,
    InvoicePaidElsewhereRecord,
    InvoiceRecord,
    PrincipalRecord,
)
from billing_core.errors import AccountNotFound, InvoiceNotFound, NotABillingContact
from billing_core.identity.emails import normalize_email
from billing_core.money import Money
from billing_core.views import AccountView, Actor, CallerContext, InvoiceView

# Hot read paths select plain columns (no ORM objects) and fold the membership check into the
# read itself: the join on the caller's contact row is the guard, so a non-member gets no row.
INVOICE_COLUMNS = (
    InvoiceRecord.number,
    InvoiceRecord.issued_on,
    InvoiceRecord.due_on,
    InvoiceRecord.amount_due_minor,
    InvoiceRecord.amount_paid_minor,
    InvoiceRecord.currency,
    InvoiceRecord.status,
    InvoiceRecord.description,
    InvoiceRecord.payment_lock_id,
    InvoiceRecord.document_url,
)


def invoice_from_row(account_external_id: str, row: Any, today: date) -> InvoiceView:
    number, issued_on, due_on, due, paid, currency, status, description, lock_id, document_url = row
    return InvoiceView(
        number=number,
        account_external_id=account_external_id,
        issued_on=issued_on,
        due_on=due_on,
        amount_due=Money(due, currency),
        amount_paid=Money(paid, currency),
        status=status,
        description=description,
        overdue=status == "open" and due_on < today,
        payment_in_progress=lock_id is not None,
        document_url=document_url,
    )


# The hot reads are built once, with bound parameters: building and cache-keying a statement
# cost more CPU than running it, and a prebuilt one is compiled once per dialect.
_EMAIL = bindparam("email", type_=String)
_EXTERNAL_ID = bindparam("external_id", type_=String)
_NUMBER = bindparam("number", type_=String)
_TODAY = bindparam("today", type_=Date)
_PRINCIPAL = bindparam("principal", type_=String)
_LIMIT = bindparam("limit", type_=Integer)


def _member() -> Select[str, str]:
    """Account columns joined to the caller's contact row: no row unless they are a member."""
    return (
        select(AccountRecord.name, AccountRecord.currency)
        .join(ContactRecord, and_(ContactRecord.account_id == AccountRecord.id, ContactRecord.email == _EMAIL))
        .where(AccountRecord.external_id == _EXTERNAL_ID)
    )


def _open_account_query(limited: bool) -> Select[Any]:
    query = (
        _member()
        .add_columns(*INVOICE_COLUMNS)
        .outerjoin(InvoiceRecord, and_(InvoiceRecord.account_id == AccountRecord.id, InvoiceRecord.status == "open"))
        .order_by(InvoiceRecord.due_on, InvoiceRecord.number)
    )
    return query.limit(_LIMIT) if limited else query


def _summaries_query(*, remembered: bool, one_account: bool) -> Select[Any]:
    """Each member account's figures (and, if ``remembered``, the principal's active account)."""
    is_open = InvoiceRecord.status == "open"
    outstanding = InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor
    active = (
        select(PrincipalRecord.active_account_id).where(PrincipalRecord.principal == _PRINCIPAL).scalar_subquery()
        if remembered
        else literal(None, Integer)
    )
    query = (
        select(
            AccountRecord.id,
            AccountRecord.external_id,
            AccountRecord.name,
            AccountRecord.currency,
            func.coalesce(func.sum(case((is_open, outstanding), else_=0)), 0),
            func.count(case((is_open, InvoiceRecord.id))),
            func.min(case((is_open, InvoiceRecord.due_on))),
            func.count(case((is_open & (InvoiceRecord.due_on < _TODAY), InvoiceRecord.id))),
            func.max(InvoiceRecord.issued_on),
            active,
        )
        .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
        .outerjoin(InvoiceRecord, InvoiceRecord.account_id == AccountRecord.id)
        .where(ContactRecord.email == _EMAIL)
        .group_by(AccountRecord.id, AccountRecord.external_id, AccountRecord.name, AccountRecord.currency)
        .order_by(AccountRecord.name)
    )
    return query.where(AccountRecord.external_id == _EXTERNAL_ID) if one_account else query


_OPEN_ACCOUNT = _open_account_query(limited=False)
_OPEN_ACCOUNT_FIRST = _open_account_query(limited=True)
_CALLER_SUMMARIES = _summaries_query(remembered=True, one_account=False)
_ACCOUNT_SUMMARY = _summaries_query(remembered=False, one_account=True)
# The caller's accounts with their open invoices (the figures are summed in Python, as
# ``open_summary`` does), and the account the principal last made active.
_CALLER_OPEN_INVOICES = (
    select(
        AccountRecord.id,
        AccountRecord.external_id,
        AccountRecord.name,
        AccountRecord.currency,
        select(PrincipalRecord.active_account_id).where(PrincipalRecord.principal == _PRINCIPAL).scalar_subquery(),
        # The e-mail this principal proved (IDENTITY_VERIFICATION=email_code), read along.
        select(PrincipalRecord.verified_email).where(PrincipalRecord.principal == _PRINCIPAL).scalar_subquery(),
        *INVOICE_COLUMNS,
    )
    .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
    .outerjoin(InvoiceRecord, and_(InvoiceRecord.account_id == AccountRecord.id, InvoiceRecord.status == "open"))
    .where(ContactRecord.email == _EMAIL)
    .order_by(AccountRecord.name, AccountRecord.id, InvoiceRecord.due_on, InvoiceRecord.number)
)
LAST_ISSUED = (
    select(InvoiceRecord.account_id, func.max(InvoiceRecord.issued_on))
    .where(InvoiceRecord.account_id.in_(bindparam("account_ids", expanding=True)))
    .group_by(InvoiceRecord.account_id)
)
_INVOICE = (
    _member()
    .add_columns(*INVOICE_COLUMNS)
    .join(InvoiceRecord, InvoiceRecord.account_id == AccountRecord.id)
    .where(InvoiceRecord.number == _NUMBER)
)
_ACCOUNTS_WITH_INVOICE = (
    select(AccountRecord.external_id)
    .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
    .join(InvoiceRecord, InvoiceRecord.account_id == AccountRecord.id)
    .where(ContactRecord.email == _EMAIL, InvoiceRecord.number == _NUMBER)
)
_INVOICES_NUMBERED_ANY_CASE = (
    select(AccountRecord.external_id, InvoiceRecord.number)
    .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
    .join(InvoiceRecord, InvoiceRecord.account_id == AccountRecord.id)
    .where(ContactRecord.email == _EMAIL, func.lower(InvoiceRecord.number) == func.lower(_NUMBER))
    .order_by(AccountRecord.external_id, InvoiceRecord.number)
)


def open_summary(external_id: str, name: str, currency: str, invoices: list[InvoiceView]) -> AccountView:
    """The account's summary computed from all of its open invoices (as ``caller`` computes it)."""
    balance = Money(sum(i.amount_due.amount_minor - i.amount_paid.amount_minor for i in invoices), currency)
    return AccountView(
        external_id=external_id,
        name=name,
        currency=currency,
        balance=balance,
        open_invoice_count=len(invoices),
        next_due_on=min((i.due_on for i in invoices), default=None),
        overdue_count=sum(1 for i in invoices if i.overdue),
    )


def invoice_view(account: AccountRecord, invoice: InvoiceRecord, today: date) -> InvoiceView:
    return InvoiceView(
        number=invoice.number,
        account_external_id=account.external_id,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        amount_due=Money(invoice.amount_due_minor, invoice.currency),
        amount_paid=Money(invoice.amount_paid_minor, invoice.currency),
        status=invoice.status,
        description=invoice.description,
        overdue=invoice.status == "open" and invoice.due_on < today,
        payment_in_progress=invoice.payment_lock_id is not None,
        document_url=invoice.document_url,
    )


class AccountService:
    """Identify callers by e-mail, keep their active account, and read what they owe."""

    def __init__(self, *, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    def today(self) -> date:
        """Today's date in the billing time zone."""
        return self._clock.now().astimezone(self._tz).date()

    def now(self) -> datetime:
        return self._clock.now()

    # -- identity -------------------------------------------------------------------------

    def is_contact(self, email: str) -> bool:
        """True when the e-mail is a billing contact of at least one account."""
        with self._db.read() as session:
            found = session.scalar(
                select(ContactRecord.id).where(ContactRecord.email == normalize_email(email)).limit(1)
            )
            return found is not None

    def caller(self, actor: Actor) -> CallerContext:
        """The caller's accounts and the active one. ``NotABillingContact`` if they have none."""
        with self._db.reading() as connection:
            return self._caller(connection, actor)

    def caller_with_open_invoices(self, actor: Actor) -> tuple[CallerContext, list[InvoiceView]]:
        """``caller`` and the active account's open invoices (oldest due first), read together.

        One statement, plus a second only for a contact of several accounts who has not picked
        one yet (the active account is then the one with the most recently issued invoice).
        """
        caller, invoices, _ = self.caller_with_open_invoices_and_proof(actor)
        return caller, invoices

    def caller_with_open_invoices_and_proof(self, actor: Actor) -> tuple[CallerContext, list[InvoiceView], str | None]:
        """``caller_with_open_invoices`` and, in the same statement, the e-mail the caller's
        principal has proven (``principals.verified_email``, ``None`` if none): the caller checks it
        (``IdentityVerification.proven_by``) before showing anything."""
        today = self.today()
        params = {"email": normalize_email(actor.email), "principal": actor.principal}
        accounts: dict[int, tuple[str, str, str, list[InvoiceView]]] = {}
        with self._db.reading() as connection:
            rows = connection.execute(_CALLER_OPEN_INVOICES, params).all()
            for row in rows:
                account_id, external_id, name, currency = row[0], row[1], row[2], row[3]
                entry = accounts.setdefault(account_id, (external_id, name, currency, []))
                if row[6] is not None:
                    entry[3].append(invoice_from_row(external_id, row[6:], today))
            if not accounts:
                raise NotABillingContact(actor.email)
            active_id = rows[0][4]
            if active_id not in accounts:
                if len(accounts) == 1:
                    active_id = next(iter(accounts))
                else:
                    found = connection.execute(LAST_ISSUED, {"account_ids": list(accounts)}).all()
                    last: dict[int, date | None] = {account_id: issued for account_id, issued in found}
                    active_id = max(accounts, key=lambda i: (last.get(i) or date.min, accounts[i][0]))
        views = {
            i: open_summary(ext, name, currency, invoices) for i, (ext, name, currency, invoices) in accounts.items()
        }
        caller = CallerContext(actor=actor, accounts=tuple(views.values()), active=views[active_id])
        return caller, accounts[active_id][3], rows[0][5]

    def _caller(self, connection: Connection, actor: Actor) -> CallerContext:
        summaries, active_id = self._summaries(connection, actor.email, principal=actor.principal)
        if not summaries:
            raise NotABillingContact(actor.email)
        views = tuple(view for view, _, _ in summaries)
        by_id = {account_id: view for view, account_id, _ in summaries}
        active = by_id.get(active_id) if active_id is not None else None
        if active is None:
            # A contact of several accounts starts on the one with the most recently issued invoice.
            active = max(summaries, key=lambda s: (s[2] or date.min, s[0].external_id))[0]
        return CallerContext(actor=actor, accounts=views, active=active)

    def _summaries(
        self, connection: Connection, email: str, *, principal: str | None = None, external_id: str | None = None
    ) -> tuple[list[tuple[AccountView, int, date | None]], int | None]:
        """The member accounts' summaries and, for ``principal``, the account it last made active.

        One statement: the remembered account rides along as an uncorrelated scalar subquery.
        """
        params: dict[str, Any] = {"email": normalize_email(email), "today": self.today()}
        if external_id is not None:
            query, params["external_id"] = _ACCOUNT_SUMMARY, external_id
        else:
            query, params["principal"] = _CALLER_SUMMARIES, principal
        rows = connection.execute(query, params).all()
        summaries = [
            (
                AccountView(
                    external_id=ext_id,
                    name=name,
                    currency=currency,
                    balance=Money(int(balance), currency),
                    open_invoice_count=int(open_count),
                    next_due_on=next_due,
                    overdue_count=int(overdue),
                ),
                account_id,
                last_issued,
            )
            for account_id, ext_id, name, currency, balance, open_count, next_due, overdue, last_issued, _ in rows
        ]
        return summaries, (rows[0][9] if rows else None)

    def switch(self, actor: Actor, query: str) -> CallerContext:
        """Make the account whose id is ``query`` (exactly) or whose name matches (any case) active.

        Anything else raises ``AccountNotFound`` and changes nothing.
        """
        wanted = query.strip()
        with self._db.transaction() as session:
            context = self._caller(session.connection(), actor)
            match = context.account(wanted) or next(
                (a for a in context.accounts if a.name.casefold() == wanted.casefold()), None
            )
            if match is None:
                raise AccountNotFound(wanted)
            account = require_account(session, actor, match.external_id)
            if self._remember(session, actor, account.id):
                add_audit_event(
                    session,
                    at=self._clock.now(),
                    actor=actor,
                    account_id=account.id,
                    action="account.switch",
                    target=account.external_id,
                    outcome="ok",
                )
            return CallerContext(actor=actor, accounts=context.accounts, active=match)

    def _remember(self, session: Session, actor: Actor, account_id: int) -> bool:
        """Make ``account_id`` the actor's active account; False when it already was.

        Insert-if-absent, then compare-and-set: concurrent clicks of the same switch neither
        collide on the unique principal nor record the switch more than once.
        """
        now = self._clock.now()
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(PrincipalRecord)
            .values(principal=actor.principal, updated_at=now)
            .on_conflict_do_nothing(index_elements=["principal"])
        )
        changed = session.execute(
            update(PrincipalRecord)
            .where(
                PrincipalRecord.principal == actor.principal,
                or_(PrincipalRecord.active_account_id.is_(None), PrincipalRecord.active_account_id != account_id),
            )
            .values(active_account_id=account_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(changed.rowcount)  # type: ignore[attr-defined]

    # -- invoices -------------------------------------------------------------------------

    def open_invoices(self, actor: Actor, account_external_id: str, *, limit: int | None = None) -> list[InvoiceView]:
        """The account's open invoices, oldest due first (the first ``limit`` of them, if given)."""
        return self.open_account(actor, account_external_id, limit=limit)[1]

    def open_account(
        self, actor: Actor, account_external_id: str, *, limit: int | None = None
    ) -> tuple[AccountView, list[InvoiceView]]:
        """A member account's summary as of now and its open invoices, oldest due first, in one read.

        With ``limit`` only the first invoices are read and the summary's figures are the caller's
        to take from elsewhere (they cover only what was read). ``AccountNotFound`` for a non-member.
        """
        if not isinstance(account_external_id, str) or not account_external_id:
            raise AccountNotFound(account_external_id)
        today = self.today()
        params: dict[str, Any] = {"email": normalize_email(actor.email), "external_id": account_external_id}
        query = _OPEN_ACCOUNT
        if limit is not None:
            query, params["limit"] = _OPEN_ACCOUNT_FIRST, max(1, limit)
        with self._db.reading() as connection:
            rows = connection.execute(query, params).all()
        if not rows:
            raise AccountNotFound(account_external_id)
        name, currency = rows[0][0], rows[0][1]
        invoices = [invoice_from_row(account_external_id, row[2:], today) for row in rows if row[2] is not None]
        return open_summary(account_external_id, name, currency, invoices), invoices

    def balance(self, actor: Actor, account_external_id: str) -> Money:
        """The sum still owed over the account's open invoices."""
        with self._db.read() as session:
            account = require_account(session, actor, account_external_id)
            owed = session.scalar(
                select(
                    func.coalesce(func.sum(InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor), 0)
                ).where(InvoiceRecord.account_id == account.id, InvoiceRecord.status == "open")
            )
            return Money(int(owed or 0), account.currency)

    def contacts(self, actor: Actor, account_external_id: str) -> list[tuple[str, str]]:
        """``(name, e-mail)`` of the account's billing contacts, for one of them only
        (``AccountNotFound`` for anyone else)."""
        with self._db.read() as session:
            account = require_account(session, actor, account_external_id)
            rows = session.execute(
                select(ContactRecord.name, ContactRecord.email)
                .where(ContactRecord.account_id == account.id)
                .order_by(ContactRecord.name, ContactRecord.email)
            ).all()
        return [(str(name), str(email)) for name, email in rows]

    def invoice(self, actor: Actor, account_external_id: str, number: str) -> InvoiceView:
        """One invoice of a member account; ``InvoiceNotFound`` otherwise (no hint why)."""
        if not isinstance(account_external_id, str) or not account_external_id:
            raise InvoiceNotFound(number)
        params = {"email": normalize_email(actor.email), "external_id": account_external_id, "number": number}
        with self._db.reading() as connection:
            row = connection.execute(_INVOICE, params).first()
            if row is None:
                raise InvoiceNotFound(number)
            found = invoice_from_row(account_external_id, row[2:], self.today())
            if found.status == "open":
                return found
            closed = connection.execute(
                select(InvoiceRecord.closed_as, InvoicePaidElsewhereRecord.paid_on, InvoiceRecord.updated_at)
                .outerjoin(InvoicePaidElsewhereRecord, InvoicePaidElsewhereRecord.invoice_id == InvoiceRecord.id)
                .join(AccountRecord, AccountRecord.id == InvoiceRecord.account_id)
                .where(AccountRecord.external_id == account_external_id, InvoiceRecord.number == found.number)
            ).first()
        if closed is None or closed[0] is None:
            return found
        closed_as, paid_on, updated_at = closed
        on = paid_on if closed_as == "paid_elsewhere" else (updated_at.date() if updated_at else None)
        return replace(found, closed_as=closed_as, closed_on=on)

    def accounts_with_invoice(self, actor: Actor, number: str) -> set[str]:
        """The external ids of the caller's accounts that hold an invoice numbered ``number``."""
        params = {"email": normalize_email(actor.email), "number": number}
        with self._db.reading() as connection:
            return {external_id for (external_id,) in connection.execute(_ACCOUNTS_WITH_INVOICE, params)}

    def invoices_numbered_any_case(self, actor: Actor, number: str) -> list[tuple[str, str]]:
        """``(account external id, invoice number)`` of the caller's invoices numbered ``number``
        without regard to case ("inv-2001" finds INV-2001)."""
        params = {"email": normalize_email(actor.email), "number": number}
        with self._db.reading() as connection:
            rows = connection.execute(_INVOICES_NUMBERED_ANY_CASE, params)
            return [(str(account), str(found)) for account, found in rows]

    def account(self, actor: Actor, account_external_id: str) -> AccountView:
        """One member account's summary; ``AccountNotFound`` otherwise."""
        with self._db.reading() as connection:
            summaries, _ = self._summaries(connection, actor.email, external_id=account_external_id)
        if not summaries:
            raise AccountNotFound(account_external_id)
        return summaries[0][0]
