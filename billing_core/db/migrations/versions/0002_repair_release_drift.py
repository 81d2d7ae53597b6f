"""repair the drift between the releases that both stamped 0001

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

Revision 0001 was edited in place after the first release (ab2e42a) had stamped databases with
it, so a database that release wrote lacks what the later edits added: six tables, six columns
and five indexes. A database written by the second release (f7eed73) has all of them under the
same revision id. This revision therefore looks at what is there and adds only what is missing,
exactly as the second release's 0001 defines it; on a database that already has everything it
changes nothing.

Every addition is expand-only (new tables, nullable or server-defaulted columns, indexes), so the
releases before this one keep working on an upgraded database.
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _job_lease() -> None:
    op.create_table(
        "billing_job_lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_billing_job_lease")),
    )


def _once_mark() -> None:
    op.create_table(
        "billing_once_mark",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_billing_once_mark")),
    )


def _autopay() -> None:
    op.create_table(
        "billing_autopay",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by_email", sa.String(length=320), nullable=False),
        sa.Column("changed_by_principal", sa.String(length=255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_account.id"],
            name=op.f("fk_billing_autopay_account_id_billing_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_billing_autopay")),
    )


def _autopay_attempt() -> None:
    op.create_table(
        "billing_autopay_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["billing_invoice.id"],
            name=op.f("fk_billing_autopay_attempt_invoice_id_billing_invoice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["billing_payment.id"],
            name=op.f("fk_billing_autopay_attempt_payment_id_billing_payment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_autopay_attempt")),
        sa.UniqueConstraint("invoice_id", "attempt", name=op.f("uq_billing_autopay_attempt_invoice_id_attempt")),
    )


def _card_expiry_notice() -> None:
    op.create_table(
        "billing_card_expiry_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("stripe_payment_method_id", sa.String(length=255), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["billing_contact.id"],
            name=op.f("fk_billing_card_expiry_notice_contact_id_billing_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_card_expiry_notice")),
        sa.UniqueConstraint(
            "contact_id",
            "stripe_payment_method_id",
            "threshold",
            name=op.f("uq_billing_card_expiry_notice_contact_id_stripe_payment_method_id_threshold"),
        ),
    )


def _outbound_event() -> None:
    op.create_table(
        "billing_outbound_event",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_outbound_event")),
    )


# In dependency order: autopay_attempt refers to invoices and payments, which the first release has.
TABLES: dict[str, Callable[[], None]] = {
    "billing_job_lease": _job_lease,
    "billing_once_mark": _once_mark,
    "billing_autopay": _autopay,
    "billing_autopay_attempt": _autopay_attempt,
    "billing_card_expiry_notice": _card_expiry_notice,
    "billing_outbound_event": _outbound_event,
}


def _columns() -> dict[str, list[sa.Column[object]]]:
    """Made anew on each run: a column object joins the one table it is added to."""
    return {
        "billing_invoice": [sa.Column("document_url", sa.Text(), nullable=True)],
        "billing_payment": [
            sa.Column("source", sa.String(length=16), server_default="slack", nullable=False),
            sa.Column("receipt_url", sa.Text(), nullable=True),
        ],
        "billing_principal": [sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True)],
        "billing_reminder_delivery": [
            sa.Column("workspace", sa.String(length=64), nullable=True),
            sa.Column("withheld", sa.Boolean(), server_default=sa.false(), nullable=False),
        ],
    }


INDEXES: dict[str, list[tuple[str, list[str]]]] = {
    "billing_once_mark": [("ix_billing_once_mark_at", ["at"])],
    "billing_principal": [("ix_billing_principal_email", ["email"])],
    "billing_autopay_attempt": [("ix_billing_autopay_attempt_status", ["status"])],
    "billing_outbound_event": [
        ("ix_billing_outbound_event_due", ["status", "next_attempt_at"]),
        ("ix_billing_outbound_event_subject", ["subject"]),
    ],
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    present = set(inspector.get_table_names())
    for name, create in TABLES.items():
        if name not in present:
            create()
    for table, columns in _columns().items():
        have = {column["name"] for column in inspector.get_columns(table)}
        missing = [column for column in columns if column.name not in have]
        if missing:
            # Plain ALTER TABLE ... ADD COLUMN on both databases: every row is kept as it is.
            with op.batch_alter_table(table, recreate="never") as batch_op:
                for column in missing:
                    batch_op.add_column(column)
    for table, indexes in INDEXES.items():
        have = {index["name"] for index in inspector.get_indexes(table)} if table in present else set()
        for name, columns in indexes:
            if name not in have:
                op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    # The second release's 0001 holds everything added here: going back to 0001 removes nothing.
    pass
