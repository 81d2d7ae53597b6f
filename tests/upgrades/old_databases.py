"""Databases as a landed release left them: its schema, stamped as it stamped it, with data in it.

:func:`build_release_database` runs the release's own revision 0001 (``tests/upgrades/releases``)
and stamps ``alembic_version`` ``0001``, as that release's ``billing-bot db upgrade`` did.
:func:`seed_release_data` writes what a deployment holds after some use: two customers, invoices
open and paid, a settled payment, an escalation, a reminder delivery, an identity link, an audit
row, a saved card and, for the release that had them, an autopay switch and an outbound event.
Rows are written through the columns the release had, with today's column types (so timestamps
are stored as the bot stores them).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic import command
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, MetaData, Table, create_engine, func, inspect, select, text
from sqlalchemy.engine import Connection

from billing_core.db import tables  # noqa: F401  (registers the records on the metadata)
from billing_core.db.base import Base
from billing_core.db.database import alembic_config, create_db_engine
from tests.upgrades.releases import RELEASES

AT = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
ANN_PRINCIPAL = "slack:T111:W111"
SEED_INTENT = "pi_release_seed_1"


@dataclass(frozen=True)
class Seeded:
    """What a test looks for after the upgrade."""

    escalation_id: int
    payment_id: int


RELEASE_SCHEMAS = Path(__file__).parent / "releases"
TREE_0001 = Path(__file__).resolve().parents[2] / "billing_core/db/migrations/versions/0001_initial_schema.py"


def _release_schema(release: str) -> ModuleType:
    """The release's own revision 0001: its snapshot, or the tree's 0001 when the release's is that
    file byte for byte (the last release before 0002; test_landed_revisions pins it)."""
    path = RELEASE_SCHEMAS / f"schema_{release}.py"
    spec = importlib.util.spec_from_file_location(f"release_schema_{release}", path if path.exists() else TREE_0001)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_release_database(url: str, release: str) -> None:
    """``url`` (empty) gets ``release``'s schema, stamped as that release stamped it."""
    head = RELEASES[release]
    if head is not None:
        engine = create_db_engine(url)
        try:
            command.upgrade(alembic_config(url, engine), head)
        finally:
            engine.dispose()
        return
    module = _release_schema(release)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            context = MigrationContext.configure(
                connection, opts={"render_as_batch": connection.dialect.name == "sqlite"}
            )
            with Operations.context(context):
                module.upgrade()
            connection.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
    finally:
        engine.dispose()


def _insert(connection: Connection, table: str, **values: Any) -> int:
    present = {column["name"] for column in inspect(connection).get_columns(table)}
    unknown = set(values) - present
    assert not unknown, f"{table} has no {sorted(unknown)} in this release"
    model = Base.metadata.tables[table]
    light = Table(
        table,
        MetaData(),
        *[Column(c.name, c.type, primary_key=c.primary_key) for c in model.columns if c.name in present],
    )
    result = connection.execute(light.insert().values(**values))
    key = result.inserted_primary_key
    return int(key[0]) if key and isinstance(key[0], int) else 0


def seed_release_data(url: str, release: str, *, stripe_customer: str, card: str) -> Seeded:
    """Write a used deployment's rows into ``release``'s database at ``url``."""
    engine = create_db_engine(url)
    try:
        with engine.begin() as c:
            stamps = {"created_at": AT, "updated_at": AT}
            acme = _insert(
                c,
                "billing_account",
                external_id="acme",
                name="Acme Corp",
                currency="usd",
                stripe_customer_id=stripe_customer,
                **stamps,
            )
            initech = _insert(c, "billing_account", external_id="initech", name="Initech", currency="usd", **stamps)
            ann = _insert(c, "billing_contact", account_id=acme, email="ann@acme.test", name="Ann Lee")
            _insert(c, "billing_contact", account_id=initech, email="peter@initech.test", name="Peter Gibbons")

            def invoice(
                account: int, number: str, due: date, amount: int, status: str = "open", description: str = ""
            ) -> int:
                paid = amount if status == "paid" else 0
                return _insert(
                    c,
                    "billing_invoice",
                    account_id=account,
                    number=number,
                    issued_on=date(2026, 10, 1),
                    due_on=due,
                    amount_due_minor=amount,
                    amount_paid_minor=paid,
                    currency="usd",
                    status=status,
                    description=description,
                    paid_at=AT if paid else None,
                    **stamps,
                )

            paid_invoice = invoice(acme, "INV-0", date(2026, 9, 30), 9900, "paid", "September usage")
            open_invoice = invoice(acme, "INV-1", date(2026, 10, 31), 125000, description="October usage")
            invoice(acme, "INV-2", date(2026, 12, 1), 50050, description="November usage")
            invoice(initech, "I-1", date(2026, 11, 20), 7000)
            has = {t: {col["name"] for col in inspect(c).get_columns(t)} for t in inspect(c).get_table_names()}
            extra = (
                {"source": "slack", "receipt_url": "https://pay.stripe.com/receipts/seed"}
                if "receipt_url" in has["billing_payment"]
                else {}
            )
            payment = _insert(
                c,
                "billing_payment",
                account_id=acme,
                amount_minor=9900,
                currency="usd",
                status="succeeded",
                idempotency_key="release-seed-payment-1",
                stripe_payment_intent_id=SEED_INTENT,
                stripe_payment_method_id=card,
                card_brand="visa",
                card_last4="4242",
                started_by_email="ann@acme.test",
                started_by_principal=ANN_PRINCIPAL,
                settled_at=AT,
                submitted_at=AT,
                **stamps,
                **extra,
            )
            _insert(c, "billing_payment_invoice", payment_id=payment, invoice_id=paid_invoice, amount_minor=9900)
            _insert(
                c,
                "billing_payment_method",
                account_id=acme,
                stripe_payment_method_id=card,
                brand="visa",
                last4="4242",
                exp_month=12,
                exp_year=2034,
                is_default=True,
                refreshed_at=AT,
            )
            escalation = _insert(
                c,
                "billing_escalation",
                account_id=acme,
                invoice_id=open_invoice,
                topic="dispute",
                message="The October usage looks doubled.",
                requester_email="ann@acme.test",
                requester_name="Ann Lee",
                requester_principal=ANN_PRINCIPAL,
                origin="user",
                status="open",
                delivery_status="sent",
                attempts=1,
                sent_at=AT,
                created_at=AT,
            )
            _insert(
                c,
                "billing_reminder_delivery",
                invoice_id=open_invoice,
                contact_id=ann,
                step=1,
                status="sent",
                attempts=1,
                claimed_at=AT,
                sent_at=AT,
                channel="DW111",
                message_ts="1762335000.000100",
            )
            _insert(
                c,
                "billing_principal",
                principal=ANN_PRINCIPAL,
                email="ann@acme.test",
                display_name="Ann Lee",
                email_checked_at=AT,
                active_account_id=acme,
                verified_email="ann@acme.test",
                verified_at=AT,
                updated_at=AT,
            )
            _insert(
                c,
                "billing_audit_event",
                at=AT,
                actor="ann@acme.test",
                principal=ANN_PRINCIPAL,
                account_id=acme,
                action="payment.start",
                target=f"payment:{payment}",
                outcome="ok",
                detail="INV-0",
            )
            if "billing_autopay" in has and "billing_outbound_event" in has:
                _insert(
                    c,
                    "billing_autopay",
                    account_id=initech,
                    enabled=False,
                    changed_by_email="peter@initech.test",
                    changed_by_principal="slack:T111:W222",
                    changed_at=AT,
                )
                _insert(
                    c,
                    "billing_outbound_event",
                    id="evt_release_seed_1",
                    channel="webhook",
                    type="payment.succeeded",
                    subject=f"payment:{payment}",
                    body="{}",
                    status="delivered",
                    attempts=1,
                    created_at=AT,
                    delivered_at=AT,
                )
            return Seeded(escalation_id=escalation, payment_id=payment)
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    """Rows per billing table (those the database has)."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            return {
                name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in Base.metadata.tables.items()
                if name in present
            }
    finally:
        engine.dispose()


def _index_shape(index: Any) -> dict[str, Any]:
    """An index as reflected, with a partial index's WHERE as its SQL text (SQLite reflects it as a
    ``TextClause`` object, whose default text is its memory address)."""
    options = {key: str(value) for key, value in (index.get("dialect_options") or {}).items()}
    return {**index, "dialect_options": options}


def schema_snapshot(url: str) -> dict[str, Any]:
    """Tables, columns, indexes and version rows: equal before and after a no-op upgrade."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            shape: dict[str, Any] = {}
            for name in sorted(inspector.get_table_names()):
                shape[name] = (
                    [(col["name"], str(col["type"]), col["nullable"]) for col in inspector.get_columns(name)],
                    sorted(str(sorted(_index_shape(ix).items())) for ix in inspector.get_indexes(name)),
                )
            for version in ("alembic_version", "billing_schema_version"):
                if version in shape:
                    shape[f"{version} rows"] = list(connection.execute(text(f"SELECT version_num FROM {version}")))
            return shape
    finally:
        engine.dispose()
