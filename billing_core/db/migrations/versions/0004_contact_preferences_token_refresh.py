"""contact notification preferences; the row each Slack installation's token refresh locks

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Expand-only: two new tables, nothing else changes, so the releases before this one keep working
on an upgraded database (they never read these tables).

- ``billing_contact_preference``: per billing contact (one person's e-mail on one account), when
  the bot introduced itself in a first DM, when the person stopped reminders ("Stop reminders",
  reversible from the App Home) and when they said the address is not theirs ("Not me").
- ``billing_token_refresh``: one row per Slack installation; a token refresh holds it locked
  (``SELECT ... FOR UPDATE``) so only one replica exchanges the single-use refresh token.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_contact_preference",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("introduced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_me_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["billing_contact.id"],
            name=op.f("fk_billing_contact_preference_contact_id_billing_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_billing_contact_preference")),
    )
    op.create_table(
        "billing_token_refresh",
        sa.Column("installation", sa.String(length=255), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshes", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("installation", name=op.f("pk_billing_token_refresh")),
    )


def downgrade() -> None:
    op.drop_table("billing_token_refresh")
    op.drop_table("billing_contact_preference")
