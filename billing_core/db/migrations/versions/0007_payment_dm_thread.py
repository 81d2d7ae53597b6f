"""the payer's DM of a payment's receipt, for replies in its thread

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Issue 24. Where the payer was told a payment was received (the Slack DM channel and the message's
``ts``), so that a later refund or dispute is told as a reply in that message's thread.
Expand-only: two nullable columns, so the releases before this one keep working on an upgraded
database (they never read or write them); payments made before it have none, and their refund or
dispute notices go to the DM as new messages.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_payment", recreate="never") as batch:
        batch.add_column(sa.Column("receipt_dm_channel", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("receipt_dm_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("billing_payment") as batch:
        batch.drop_column("receipt_dm_ts")
        batch.drop_column("receipt_dm_channel")
