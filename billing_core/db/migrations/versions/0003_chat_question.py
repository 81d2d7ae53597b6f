"""chat: the question the bot asked each person last

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

One row per Slack person: what chat asked them last ("Which one: INV-1001 or INV-0998?", "Tell
billing support you've paid it?") or which invoices it listed, so that a short answer ("the
first", "yes") landing on another replica is still understood. Expand-only: a new table, which
earlier releases never read.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_chat_question",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.String(length=255), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_billing_chat_question")),
    )


def downgrade() -> None:
    op.drop_table("billing_chat_question")
