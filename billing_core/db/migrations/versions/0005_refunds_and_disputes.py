"""refunds and disputes on payments

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

What Stripe reports after a payment succeeded: how much of it was refunded, and the state of a
dispute (chargeback) about it. Expand-only: two columns, one server-defaulted, one nullable, so
the releases before this one keep working on an upgraded database (they never read them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_payment", recreate="never") as batch:
        batch.add_column(sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False))
        batch.add_column(sa.Column("dispute_status", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("billing_payment") as batch:
        batch.drop_column("dispute_status")
        batch.drop_column("refunded_minor")
