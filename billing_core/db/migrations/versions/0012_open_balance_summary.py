"""open balances per (account, currency), kept by the database on every invoice write

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Issue 31 (the staff view's speed on the full benchmark set). Expand-only: one new table, and a
new index and row triggers on ``billing_invoice``; no existing column, row or index changes, so
the releases before this one keep working on an upgraded database (their invoice writes fire the
triggers too, which is the point: the summary stays exact whoever writes).

- ``billing_open_balance``: one row per (account, currency) that had an open invoice since the
  summary was made: how many invoices are open (``open_count``) and what they still ask for
  (``owed_minor``: the sum over invoices with ``status = 'open'`` of ``amount_due_minor -
  amount_paid_minor``, an open invoice paid beyond its amount counting 0, so that it bounds
  any part of the pair's open amounts from above; minor units). A row whose invoices all closed
  stays, at 0 / 0. Indexed by ``owed_minor`` for the staff view's ranking.
- ``ix_billing_invoice_open_by_account``: the open invoices' amounts by account, currency and due
  date (partial, ``status = 'open'``), so that the ranking reads the overdue amounts of a batch
  of accounts from the index alone. Skipped when it exists (an operator may build it
  CONCURRENTLY first: otherwise it locks ``billing_invoice`` for writes while it builds).
- Triggers (PostgreSQL: one PL/pgSQL function and three row triggers; SQLite: three triggers),
  AFTER INSERT / UPDATE / DELETE of an invoice: the row's old contribution (if it was open) is
  taken off its pair and the new one (if it is open) added. An UPDATE fires only when the status,
  the amounts, the account or the currency are set; a delete cascaded from an account fires the
  delete trigger too (its ``UPDATE`` finds the pair's row gone or going: nothing to do).
- Back-filled from the invoices in the same transaction, after the triggers exist: creating a
  trigger locks ``billing_invoice`` against writes (not reads) until this migration commits, so no
  write is missed or counted twice. On the benchmark's 1,000,000 invoices the back-fill takes a
  few seconds; writes wait for it.

A later revision that rebuilds ``billing_invoice`` (SQLite's batch mode copies the table and drops
the old one, and its triggers with it) must create these triggers again;
``tests/integration/core/test_receivables_view.py`` checks they exist at head.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _owed(row: str) -> str:
    """An invoice row's part of ``owed_minor`` (``row``: OLD or NEW; "" for the table's own columns)."""
    due, paid = f"{row}amount_due_minor", f"{row}amount_paid_minor"
    return f"(CASE WHEN {due} > {paid} THEN {due} - {paid} ELSE 0 END)"


_POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION billing_open_balance_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.status = 'open' THEN
            UPDATE billing_open_balance
               SET open_count = open_count - 1, owed_minor = owed_minor - {_owed("OLD.")}
             WHERE account_id = OLD.account_id AND currency = OLD.currency;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.status = 'open' THEN
            INSERT INTO billing_open_balance AS b (account_id, currency, open_count, owed_minor)
            VALUES (NEW.account_id, NEW.currency, 1, {_owed("NEW.")})
            ON CONFLICT (account_id, currency)
            DO UPDATE SET open_count = b.open_count + 1, owed_minor = b.owed_minor + EXCLUDED.owed_minor;
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""

# An UPDATE fires the trigger only when it sets one of these, the invoice is (or was) open and one
# of them changed; an update of anything else (the payment lock, ``updated_at``) costs nothing.
_WATCHED = ("status", "amount_due_minor", "amount_paid_minor", "account_id", "currency")
_POSTGRES_CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in _WATCHED)
_SQLITE_CHANGED = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in _WATCHED)
_UPDATE_OF = f"AFTER UPDATE OF {', '.join(_WATCHED)} ON billing_invoice FOR EACH ROW"

_POSTGRES_TRIGGERS = (
    "CREATE TRIGGER billing_invoice_open_balance_insert AFTER INSERT ON billing_invoice "
    "FOR EACH ROW WHEN (NEW.status = 'open') EXECUTE FUNCTION billing_open_balance_track()",
    f"CREATE TRIGGER billing_invoice_open_balance_update {_UPDATE_OF} "
    f"WHEN ((OLD.status = 'open' OR NEW.status = 'open') AND ({_POSTGRES_CHANGED})) "
    "EXECUTE FUNCTION billing_open_balance_track()",
    "CREATE TRIGGER billing_invoice_open_balance_delete AFTER DELETE ON billing_invoice "
    "FOR EACH ROW WHEN (OLD.status = 'open') EXECUTE FUNCTION billing_open_balance_track()",
)

# SQLite has no procedures, so each trigger spells out its part. The ``INSERT ... SELECT ... WHERE``
# adds the new contribution only when the invoice is open (a WHERE is also what keeps SQLite's
# parser from reading ``ON CONFLICT`` as part of the SELECT).
_SQLITE_TAKE_OFF = (
    f"UPDATE billing_open_balance SET open_count = open_count - 1, owed_minor = owed_minor - {_owed('OLD.')} "
    "WHERE OLD.status = 'open' AND account_id = OLD.account_id AND currency = OLD.currency;"
)
_SQLITE_ADD = (
    "INSERT INTO billing_open_balance (account_id, currency, open_count, owed_minor) "
    f"SELECT NEW.account_id, NEW.currency, 1, {_owed('NEW.')} WHERE NEW.status = 'open' "
    "ON CONFLICT (account_id, currency) "
    "DO UPDATE SET open_count = open_count + 1, owed_minor = owed_minor + excluded.owed_minor;"
)
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER billing_invoice_open_balance_insert AFTER INSERT ON billing_invoice "
    f"FOR EACH ROW WHEN NEW.status = 'open' BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER billing_invoice_open_balance_update {_UPDATE_OF} "
    f"WHEN (OLD.status = 'open' OR NEW.status = 'open') AND ({_SQLITE_CHANGED}) "
    f"BEGIN {_SQLITE_TAKE_OFF} {_SQLITE_ADD} END",
    "CREATE TRIGGER billing_invoice_open_balance_delete AFTER DELETE ON billing_invoice "
    f"FOR EACH ROW WHEN OLD.status = 'open' BEGIN {_SQLITE_TAKE_OFF} END",
)

_BACKFILL = (
    "INSERT INTO billing_open_balance (account_id, currency, open_count, owed_minor) "
    f"SELECT account_id, currency, count(*), sum({_owed('')}) FROM billing_invoice "
    "WHERE status = 'open' GROUP BY account_id, currency"
)


def upgrade() -> None:
    op.create_table(
        "billing_open_balance",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("owed_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_account.id"],
            name=op.f("fk_billing_open_balance_account_id_billing_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "currency", name=op.f("pk_billing_open_balance")),
    )
    op.create_index(
        "ix_billing_open_balance_owed_minor", "billing_open_balance", ["owed_minor", "account_id", "currency"]
    )
    op.create_index(
        "ix_billing_invoice_open_by_account",
        "billing_invoice",
        ["account_id", "currency", "due_on", "amount_due_minor", "amount_paid_minor"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
        if_not_exists=True,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        for statement in _POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute(_BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE billing_open_balance")  # the planner's figures for the ranking, at once


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "update", "delete"):
        on_table = " ON billing_invoice" if postgres else ""
        op.execute(f"DROP TRIGGER IF EXISTS billing_invoice_open_balance_{name}{on_table}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS billing_open_balance_track()")
    op.drop_index("ix_billing_invoice_open_by_account", table_name="billing_invoice")
    op.drop_index("ix_billing_open_balance_owed_minor", table_name="billing_open_balance")
    op.drop_table("billing_open_balance")
