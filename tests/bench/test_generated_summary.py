"""The benchmark generator leaves revision 0012's summary of open balances exact: on SQLite the
triggers fill it row by row; on PostgreSQL (``TEST_DATABASE_URL``) the COPY runs with them off and
the summary is rebuilt in the same transaction, after which they are on again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from bench.generate import QUICK, generate
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, OpenBalanceRecord


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Database]:
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base:
        from devtools.postgres import temporary_database

        with temporary_database(base, prefix="billing_summary_") as url:
            db = Database(url)
            generate(db, QUICK)
            yield db
            db.dispose()
    else:
        db = Database(f"sqlite:///{tmp_path / 'bench.db'}")
        generate(db, QUICK)
        yield db
        db.dispose()


def _summary(db: Database) -> set[tuple[int, str, int, int]]:
    with db.read() as session:
        return {
            (int(account), str(currency), int(count), int(owed))
            for account, currency, count, owed in session.execute(
                select(
                    OpenBalanceRecord.account_id,
                    OpenBalanceRecord.currency,
                    OpenBalanceRecord.open_count,
                    OpenBalanceRecord.owed_minor,
                ).where(OpenBalanceRecord.open_count > 0)
            )
        }


def _from_invoices(db: Database) -> set[tuple[int, str, int, int]]:
    owed = func.sum(InvoiceRecord.amount_due_minor - InvoiceRecord.amount_paid_minor)  # none is overpaid here
    with db.read() as session:
        return {
            (int(account), str(currency), int(count), int(owed))
            for account, currency, count, owed in session.execute(
                select(InvoiceRecord.account_id, InvoiceRecord.currency, func.count(), owed)
                .where(InvoiceRecord.status == "open")
                .group_by(InvoiceRecord.account_id, InvoiceRecord.currency)
            )
        }


def test_the_generated_data_set_s_summary_equals_its_open_invoices_and_the_triggers_are_on(
    generated: Database,
) -> None:
    assert _summary(generated) == _from_invoices(generated) and len(_summary(generated)) == QUICK.accounts

    with generated.transaction() as session:  # a write after the load still reaches the summary
        session.execute(
            update(InvoiceRecord)
            .where(InvoiceRecord.status == "open", InvoiceRecord.account_id == 1)
            .values(status="paid")
        )
    assert _summary(generated) == _from_invoices(generated)
    if generated.dialect == "postgresql":
        with generated.engine.connect() as connection:
            disabled = connection.scalar(
                text("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'billing_invoice'::regclass AND tgenabled = 'D'")
            )
        assert disabled == 0
