"""invoices from where they live: paid elsewhere, closed as, Stripe Billing ids

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Issue 27. Expand-only: one new table and three nullable columns, so the releases before this one
keep working on an upgraded database (they never read or write them).

- ``billing_invoice_paid_elsewhere``: an invoice the vendor reports paid outside Slack (wire,
  cheque, their own portal): amount, method, reference, date. It is not a payment the bot
  collected, so it is not a ``billing_payment`` row and ``payments export`` never lists it.
- ``billing_invoice.closed_as``: how an invoice was closed from outside (``paid_elsewhere``,
  ``void``, ``uncollectible``); NULL for open invoices and those paid through the bot.
- ``billing_invoice.stripe_invoice_id`` (unique) and ``collection_method``: the Stripe Billing
  invoice an invoice mirrors with ``INVOICE_SOURCE=stripe``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_invoice_paid_elsewhere",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_billing_invoice_paid_elsewhere_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["billing_invoice.id"],
            name=op.f("fk_billing_invoice_paid_elsewhere_invoice_id_billing_invoice"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_billing_invoice_paid_elsewhere")),
    )
    with op.batch_alter_table("billing_invoice", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("closed_as", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("stripe_invoice_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("collection_method", sa.String(length=32), nullable=True))
    op.create_index("ix_billing_invoice_stripe_invoice_id", "billing_invoice", ["stripe_invoice_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_billing_invoice_stripe_invoice_id", table_name="billing_invoice")
    with op.batch_alter_table("billing_invoice", recreate="never") as batch_op:
        batch_op.drop_column("collection_method")
        batch_op.drop_column("stripe_invoice_id")
        batch_op.drop_column("closed_as")
    op.drop_table("billing_invoice_paid_elsewhere")
