"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('billing_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_account')),
    sa.UniqueConstraint('external_id', name=op.f('uq_billing_account_external_id')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_billing_account_stripe_customer_id'))
    )
    op.create_table('billing_stripe_event',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=128), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_stripe_event'))
    )
    op.create_table('billing_job_lease',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_billing_job_lease'))
    )
    op.create_table('billing_once_mark',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_billing_once_mark'))
    )
    with op.batch_alter_table('billing_once_mark', schema=None) as batch_op:
        batch_op.create_index('ix_billing_once_mark_at', ['at'], unique=False)

    op.create_table('billing_audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('principal', sa.String(length=255), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['billing_account.id'], name=op.f('fk_billing_audit_event_account_id_billing_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_audit_event'))
    )
    with op.batch_alter_table('billing_audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_billing_audit_event_account_at', ['account_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_audit_event_at'), ['at'], unique=False)

    op.create_table('billing_card_setup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('checkout_session_id', sa.String(length=255), nullable=True),
    sa.Column('setup_intent_id', sa.String(length=255), nullable=True),
    sa.Column('requested_by_email', sa.String(length=320), nullable=False),
    sa.Column('requested_by_principal', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['billing_account.id'], name=op.f('fk_billing_card_setup_account_id_billing_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_card_setup')),
    sa.UniqueConstraint('checkout_session_id', name=op.f('uq_billing_card_setup_checkout_session_id')),
    sa.UniqueConstraint('setup_intent_id', name=op.f('uq_billing_card_setup_setup_intent_id'))
    )
    op.create_table('billing_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['billing_account.id'], name=op.f('fk_billing_contact_account_id_billing_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_contact')),
    sa.UniqueConstraint('account_id', 'email', name=op.f('uq_billing_contact_account_id_email'))
    )
    with op.batch_alter_table('billing_contact', schema=None) as batch_op:
        batch_op.create_index('ix_billing_contact_email', ['email'], unique=False)

    op.create_table('billing_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=128), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_due_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('payment_lock_id', sa.Integer(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('document_url', sa.Text(), nullable=True),
    sa.CheckConstraint("status in ('open', 'paid', 'void')", name=op.f('ck_billing_invoice_status_known')),
    sa.CheckConstraint('amount_due_minor >= 0', name=op.f('ck_billing_invoice_amount_due_not_negative')),
    sa.CheckConstraint('amount_paid_minor >= 0', name=op.f('ck_billing_invoice_amount_paid_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['billing_account.id'], name=op.f('fk_billing_invoice_account_id_billing_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoice')),
    sa.UniqueConstraint('account_id', 'number', name=op.f('uq_billing_invoice_account_id_number'))
    )
    with op.batch_alter_table('billing_invoice', schema=None) as batch_op:
        batch_op.create_index('ix_billing_invoice_account_status', ['account_id', 'status'], unique=False)
        batch_op.create_index('ix_billing_invoice_status_due', ['status', 'due_on'], unique=False)

    op.create_table('billing_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_payment_method_id', sa.String(length=255), nullable=True),
    sa.Column('card_brand', sa.String(length=32), nullable=True),
    sa.Column('card_last4', sa.String(length=4), nullable=True),
    sa.Column('started_by_email', sa.String(length=320), nullable=False),
    sa.Column('started_by_principal', sa.String(length=255), nullable=False),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('action_url', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=16), server_default='slack', nullable=False),
    sa.Column('receipt_url', sa.Text(), nullable=True),
    sa.CheckConstraint("status in ('pending', 'succeeded', 'failed', 'requires_action')", name=op.f('ck_billing_payment_status_known')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_billing_payment_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['billing_account.id'], name=op.f('fk_billing_payment_account_id_billing_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payment')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_billing_payment_idempotency_key')),
    sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('uq_billing_payment_stripe_payment_intent_id'))
    )
    with op.batch_alter_table('billing_payment', schema=None) as batch_op:
        batch_op.create_index('ix_billing_payment_account_created', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_billing_payment_status', ['status'], unique=False)

    op.create_table('billing_payment_method',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('stripe_payment_method_id', sa.String(length=255), nullable=False),
    sa.Column('brand', sa.String(length=32), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.Integer(), nullable=False),
    sa.Column('exp_year', sa.Integer(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['billing_account.id'], name=op.f('fk_billing_payment_method_account_id_billing_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payment_method')),
    sa.UniqueConstraint('account_id', 'stripe_payment_method_id', name=op.f('uq_billing_payment_method_account_id_stripe_payment_method_id'))
    )
    op.create_table('billing_principal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('principal', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('display_name', sa.String(length=255), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('email_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active_account_id', sa.Integer(), nullable=True),
    sa.Column('verified_email', sa.String(length=320), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['active_account_id'], ['billing_account.id'], name=op.f('fk_billing_principal_active_account_id_billing_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_principal')),
    sa.UniqueConstraint('principal', name=op.f('uq_billing_principal_principal'))
    )
    with op.batch_alter_table('billing_principal', schema=None) as batch_op:
        batch_op.create_index('ix_billing_principal_email', ['email'], unique=False)

    op.create_table('billing_verification_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('principal', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_verification_code'))
    )
    with op.batch_alter_table('billing_verification_code', schema=None) as batch_op:
        batch_op.create_index('ix_billing_verification_code_principal_created', ['principal', 'created_at'], unique=False)
        batch_op.create_index('ix_billing_verification_code_email_created', ['email', 'created_at'], unique=False)

    op.create_table('billing_escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('requester_email', sa.String(length=320), nullable=False),
    sa.Column('requester_name', sa.String(length=255), nullable=False),
    sa.Column('requester_principal', sa.String(length=255), nullable=False),
    sa.Column('origin', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('delivery_status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('slack_channel', sa.String(length=64), nullable=True),
    sa.Column('slack_ts', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['billing_account.id'], name=op.f('fk_billing_escalation_account_id_billing_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_escalation_invoice_id_billing_invoice'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_escalation'))
    )
    with op.batch_alter_table('billing_escalation', schema=None) as batch_op:
        batch_op.create_index('ix_billing_escalation_delivery', ['delivery_status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_billing_escalation_requester', ['requester_principal', 'status'], unique=False)

    op.create_table('billing_payment_invoice',
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_payment_invoice_invoice_id_billing_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payment.id'], name=op.f('fk_billing_payment_invoice_payment_id_billing_payment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('payment_id', 'invoice_id', name=op.f('pk_billing_payment_invoice'))
    )
    with op.batch_alter_table('billing_payment_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_payment_invoice_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('billing_reminder_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('message_ts', sa.String(length=64), nullable=True),
    sa.Column('workspace', sa.String(length=64), nullable=True),
    sa.Column('withheld', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('thanked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['billing_contact.id'], name=op.f('fk_billing_reminder_delivery_contact_id_billing_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_reminder_delivery_invoice_id_billing_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_reminder_delivery')),
    sa.UniqueConstraint('invoice_id', 'contact_id', 'step', name=op.f('uq_billing_reminder_delivery_invoice_id_contact_id_step'))
    )
    with op.batch_alter_table('billing_reminder_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_billing_reminder_delivery_status', ['status', 'claimed_at'], unique=False)

    op.create_table('billing_reminder_pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['billing_contact.id'], name=op.f('fk_billing_reminder_pause_contact_id_billing_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_reminder_pause_invoice_id_billing_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_reminder_pause')),
    sa.UniqueConstraint('invoice_id', 'contact_id', name=op.f('uq_billing_reminder_pause_invoice_id_contact_id'))
    )
    op.create_table('billing_autopay',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('changed_by_email', sa.String(length=320), nullable=False),
    sa.Column('changed_by_principal', sa.String(length=255), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['billing_account.id'], name=op.f('fk_billing_autopay_account_id_billing_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_billing_autopay'))
    )
    op.create_table('billing_autopay_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_autopay_attempt_invoice_id_billing_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payment.id'], name=op.f('fk_billing_autopay_attempt_payment_id_billing_payment'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_autopay_attempt')),
    sa.UniqueConstraint('invoice_id', 'attempt', name=op.f('uq_billing_autopay_attempt_invoice_id_attempt'))
    )
    with op.batch_alter_table('billing_autopay_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_billing_autopay_attempt_status', ['status'], unique=False)

    op.create_table('billing_card_expiry_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('stripe_payment_method_id', sa.String(length=255), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['billing_contact.id'], name=op.f('fk_billing_card_expiry_notice_contact_id_billing_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_card_expiry_notice')),
    sa.UniqueConstraint('contact_id', 'stripe_payment_method_id', 'threshold', name=op.f('uq_billing_card_expiry_notice_contact_id_stripe_payment_method_id_threshold'))
    )
    op.create_table('billing_outbound_event',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_outbound_event'))
    )
    with op.batch_alter_table('billing_outbound_event', schema=None) as batch_op:
        batch_op.create_index('ix_billing_outbound_event_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_billing_outbound_event_subject', ['subject'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('billing_outbound_event', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_outbound_event_subject')
        batch_op.drop_index('ix_billing_outbound_event_due')

    op.drop_table('billing_outbound_event')
    op.drop_table('billing_card_expiry_notice')
    with op.batch_alter_table('billing_autopay_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_autopay_attempt_status')

    op.drop_table('billing_autopay_attempt')
    op.drop_table('billing_autopay')
    op.drop_table('billing_reminder_pause')
    with op.batch_alter_table('billing_reminder_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_reminder_delivery_status')

    op.drop_table('billing_reminder_delivery')
    with op.batch_alter_table('billing_payment_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_payment_invoice_invoice_id'))

    op.drop_table('billing_payment_invoice')
    with op.batch_alter_table('billing_escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_escalation_requester')
        batch_op.drop_index('ix_billing_escalation_delivery')

    op.drop_table('billing_escalation')
    with op.batch_alter_table('billing_verification_code', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_verification_code_email_created')
        batch_op.drop_index('ix_billing_verification_code_principal_created')

    op.drop_table('billing_verification_code')
    with op.batch_alter_table('billing_principal', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_principal_email')

    op.drop_table('billing_principal')
    op.drop_table('billing_payment_method')
    with op.batch_alter_table('billing_payment', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_payment_status')
        batch_op.drop_index('ix_billing_payment_account_created')

    op.drop_table('billing_payment')
    with op.batch_alter_table('billing_invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_invoice_status_due')
        batch_op.drop_index('ix_billing_invoice_account_status')

    op.drop_table('billing_invoice')
    with op.batch_alter_table('billing_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_contact_email')

    op.drop_table('billing_contact')
    op.drop_table('billing_card_setup')
    with op.batch_alter_table('billing_audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_audit_event_at'))
        batch_op.drop_index('ix_billing_audit_event_account_at')

    op.drop_table('billing_audit_event')
    op.drop_table('billing_job_lease')
    with op.batch_alter_table('billing_once_mark', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_once_mark_at')

    op.drop_table('billing_once_mark')
    op.drop_table('billing_stripe_event')
    op.drop_table('billing_account')
    
