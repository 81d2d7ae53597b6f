"""promises to pay and staff holds on an account's reminders

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Issue 31. Expand-only: two new tables, so the releases before this one keep working on an
upgraded database (they never read or write them).

- ``billing_promise_to_pay``: a payer's "I'll pay on <date>": the account's reminders pause until
  the end of that day (``until``, in UTC); ``status`` is ``open``, then ``kept`` or ``broken``
  (the date passed with the invoices still open), or ``replaced`` by a newer promise.
- ``billing_reminder_hold``: billing staff paused an account's reminders until ``until`` (one row
  per account; resuming deletes it).
- Two partial indexes on ``billing_invoice`` for the aging table and the staff view: the open
  invoices' amounts by due date (``ix_billing_invoice_open_aging``), and the invoiced amounts by
  issue date (``ix_billing_invoice_issued``, for DSO). Built in place; on PostgreSQL a large table
  is locked for writes while they build (an operator may create them CONCURRENTLY first: the
  migration skips an index that exists).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_promise_to_pay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by_email", sa.String(length=320), nullable=False),
        sa.Column("made_by_principal", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('open', 'kept', 'broken', 'replaced')", name=op.f("ck_billing_promise_to_pay_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_account.id"],
            name=op.f("fk_billing_promise_to_pay_account_id_billing_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_promise_to_pay")),
    )
    op.create_index("ix_billing_promise_to_pay_account_status", "billing_promise_to_pay", ["account_id", "status"])
    op.create_index("ix_billing_promise_to_pay_status_until", "billing_promise_to_pay", ["status", "until"])
    op.create_table(
        "billing_reminder_hold",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_account.id"],
            name=op.f("fk_billing_reminder_hold_account_id_billing_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_billing_reminder_hold")),
    )
    op.create_index(
        "ix_billing_invoice_open_aging",
        "billing_invoice",
        ["due_on", "account_id", "currency", "amount_due_minor", "amount_paid_minor"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_billing_invoice_issued",
        "billing_invoice",
        ["issued_on", "currency", "amount_due_minor"],
        postgresql_where=sa.text("status <> 'void'"),
        sqlite_where=sa.text("status <> 'void'"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_billing_invoice_issued", table_name="billing_invoice")
    op.drop_index("ix_billing_invoice_open_aging", table_name="billing_invoice")
    op.drop_table("billing_reminder_hold")
    op.drop_index("ix_billing_promise_to_pay_status_until", table_name="billing_promise_to_pay")
    op.drop_index("ix_billing_promise_to_pay_account_status", table_name="billing_promise_to_pay")
    op.drop_table("billing_promise_to_pay")
