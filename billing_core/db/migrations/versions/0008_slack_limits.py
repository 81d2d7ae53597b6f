"""Slack rate limits shared across processes: workspace leases and Retry-After rests

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Issue 28, item 4. Expand-only: one new table, so the releases before this one keep working on an
upgraded database (they never read or write it).

- ``billing_slack_limit``: per workspace, a lease row (``method = '*'``: which process sends in
  that workspace until when; once given back, ``until`` is its holder's last call and ``calls`` the
  most calls of one method it made in the minute before) and one row per method Slack answered
  429 for (no call before ``until``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_slack_limit",
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("workspace", "method", name=op.f("pk_billing_slack_limit")),
    )


def downgrade() -> None:
    op.drop_table("billing_slack_limit")
