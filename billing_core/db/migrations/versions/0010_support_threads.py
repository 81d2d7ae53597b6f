"""two-way support threads: the requester's DM thread, waiting on customer, the thread's messages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Issue 31, item 1. Expand-only: three nullable columns and one new table, so the releases before
this one keep working on an upgraded database (they never read or write them) and every row stays.

- ``billing_escalation.requester_dm_channel`` / ``requester_dm_ts``: the first message of the DM
  thread the requester talks to billing staff in (one per request). The staff post already has
  ``slack_channel`` / ``slack_ts``.
- ``billing_escalation.waiting_since``: set while the request waits on the customer. The state is
  ``resolved`` when ``status`` says so, else ``waiting`` when this is set, else ``open``; ``status``
  keeps its two values, so whatever counts open requests (autopay, lists) still counts these.
- ``billing_escalation_message``: each message relayed between the staff thread and the DM thread
  (who, which side, the text and the links, where it came from and where it went), and the
  follow-up e-mail's delivery state (the same outbox columns as the escalation's own e-mail).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_escalation", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("requester_dm_channel", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("requester_dm_ts", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_billing_escalation_staff_post", "billing_escalation", ["slack_channel", "slack_ts"])
    op.create_index(
        "ix_billing_escalation_requester_dm", "billing_escalation", ["requester_dm_channel", "requester_dm_ts"]
    )
    op.create_table(
        "billing_escalation_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("author_principal", sa.String(length=255), nullable=False),
        sa.Column("author_name", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("source_channel", sa.String(length=64), nullable=False),
        sa.Column("source_ts", sa.String(length=64), nullable=False),
        sa.Column("relayed_channel", sa.String(length=64), nullable=True),
        sa.Column("relayed_ts", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email_status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["billing_escalation.id"],
            name=op.f("fk_billing_escalation_message_escalation_id_billing_escalation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_escalation_message")),
        sa.UniqueConstraint(
            "source_channel", "source_ts", name=op.f("uq_billing_escalation_message_source_channel_source_ts")
        ),
    )
    op.create_index(
        "ix_billing_escalation_message_escalation", "billing_escalation_message", ["escalation_id", "created_at"]
    )
    op.create_index(
        "ix_billing_escalation_message_email", "billing_escalation_message", ["email_status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_billing_escalation_message_email", table_name="billing_escalation_message")
    op.drop_index("ix_billing_escalation_message_escalation", table_name="billing_escalation_message")
    op.drop_table("billing_escalation_message")
    op.drop_index("ix_billing_escalation_requester_dm", table_name="billing_escalation")
    op.drop_index("ix_billing_escalation_staff_post", table_name="billing_escalation")
    with op.batch_alter_table("billing_escalation", recreate="never") as batch_op:
        batch_op.drop_column("waiting_since")
        batch_op.drop_column("requester_dm_ts")
        batch_op.drop_column("requester_dm_channel")
