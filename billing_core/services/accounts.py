"""Who the caller is billing contact for, which account is active, what is open and owed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord, InvoiceRecord, PrincipalRecord
from billing_core.emails import normalize_email
from billing_core.errors import AccountNotFound, NotABillingContact
from billing_core.money import Money
from billing_core.services.access import require_account, require_invoice
from billing_core.services.audit import add_audit_event
from billing_core.views import AccountView, Actor, CallerContext, InvoiceView


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
        with self._db.transaction() as session:
            return self._caller(session, actor)

    def _caller(self, session: Session, actor: Actor) -> CallerContext:
        summaries = self._summaries(session, actor.email)
        if not summaries:
            raise NotABillingContact(actor.email)
        views = tuple(view for view, _, _ in summaries)
        principal = session.scalars(
            select(PrincipalRecord).where(PrincipalRecord.principal == actor.principal)
        ).first()
        active_id = principal.active_account_id if principal else None
        by_id = {account_id: view for view, account_id, _ in summaries}
        active = by_id.get(active_id) if active_id is not None else None
        if active is None:
            # A contact of several accounts starts on the one with the most recently issued invoice.
            active = max(summaries, key=lambda s: (s[2] or date.min, s[0].external_id))[0]
        return CallerContext(actor=actor, accounts=views, active=active)

    def _summaries(self, session: Session, email: str) -> list[tuple[AccountView, int, date | None]]:
        today = self.today()
        is_open = InvoiceRecord.status == "open"
        outstanding = InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor
        rows = session.execute(
            select(
                AccountRecord.id,
                AccountRecord.external_id,
                AccountRecord.name,
                AccountRecord.currency,
                func.coalesce(func.sum(case((is_open, outstanding), else_=0)), 0),
                func.count(case((is_open, InvoiceRecord.id))),
                func.min(case((is_open, InvoiceRecord.due_on))),
                func.count(case((is_open & (InvoiceRecord.due_on < today), InvoiceRecord.id))),
                func.max(InvoiceRecord.issued_on),
            )
            .join(ContactRecord, ContactRecord.account_id == AccountRecord.id)
            .outerjoin(InvoiceRecord, InvoiceRecord.account_id == AccountRecord.id)
            .where(ContactRecord.email == normalize_email(email))
            .group_by(AccountRecord.id, AccountRecord.external_id, AccountRecord.name, AccountRecord.currency)
            .order_by(AccountRecord.name)
        ).all()
        return [
            (
                AccountView(
                    external_id=external_id,
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
            for account_id, external_id, name, currency, balance, open_count, next_due, overdue, last_issued in rows
        ]

    def switch(self, actor: Actor, query: str) -> CallerContext:
        """Make the account whose id is ``query`` (exactly) or whose name matches (any case) active.

        Anything else raises ``AccountNotFound`` and changes nothing.
        """
        wanted = query.strip()
        with self._db.transaction() as session:
            context = self._caller(session, actor)
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

    def open_invoices(self, actor: Actor, account_external_id: str) -> list[InvoiceView]:
        """The account's open invoices, oldest due first."""
        today = self.today()
        with self._db.read() as session:
            account = require_account(session, actor, account_external_id)
            invoices = session.scalars(
                select(InvoiceRecord)
                .where(InvoiceRecord.account_id == account.id, InvoiceRecord.status == "open")
                .order_by(InvoiceRecord.due_on, InvoiceRecord.number)
            ).all()
            return [invoice_view(account, invoice, today) for invoice in invoices]

    def balance(self, actor: Actor, account_external_id: str) -> Money:
        """The sum still owed over the account's open invoices."""
        with self._db.read() as session:
            account = require_account(session, actor, account_external_id)
            owed = session.scalar(
                select(
                    func.coalesce(
                        func.sum(InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor), 0
                    )
                ).where(InvoiceRecord.account_id == account.id, InvoiceRecord.status == "open")
            )
            return Money(int(owed or 0), account.currency)

    def invoice(self, actor: Actor, account_external_id: str, number: str) -> InvoiceView:
        """One invoice of a member account; ``InvoiceNotFound`` otherwise (no hint why)."""
        with self._db.read() as session:
            account, invoice = require_invoice(session, actor, account_external_id, number)
            return invoice_view(account, invoice, self.today())

    def account(self, actor: Actor, account_external_id: str) -> AccountView:
        """One member account's summary; ``AccountNotFound`` otherwise."""
        with self._db.read() as session:
            for view, _, _ in self._summaries(session, actor.email):
                if view.external_id == account_external_id:
                    return view
        raise AccountNotFound(account_external_id)
