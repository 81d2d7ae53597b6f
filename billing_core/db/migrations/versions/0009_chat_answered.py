"""chat: which messages in the app's DM were taken in and answered

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

One row per message a person wrote in the app's DM that the bot took in (answered), keyed by the
workspace, the DM and the message's ts, so an edit (``message_changed``) of an answered message is
left alone while an edit of one that never got a reply is answered once, whichever replica
receives it. Rows older than the keep window are purged as new ones are written. Expand-only: a
new table, which earlier releases never read.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_chat_answered",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", "message_ts", name=op.f("pk_billing_chat_answered")),
    )
    op.create_index("ix_billing_chat_answered_answered_at", "billing_chat_answered", ["answered_at"])


def downgrade() -> None:
    op.drop_index("ix_billing_chat_answered_answered_at", table_name="billing_chat_answered")
    op.drop_table("billing_chat_answered")
