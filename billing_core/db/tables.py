"""The database records. Only ``billing_core`` touches them; services return plain views.

The project is not released yet, so schema changes go into migration 0001 directly and
``tests/integration/test_migrations.py`` checks that the migrations and these records agree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing_core.db.base import Base, UtcDateTime


class AccountRecord(Base):
    __tablename__ = "billing_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    contacts: Mapped[list[ContactRecord]] = relationship(back_populates="account")


class ContactRecord(Base):
    """A billing contact of one account. The same e-mail may appear on several accounts."""

    __tablename__ = "billing_contact"
    __table_args__ = (UniqueConstraint("account_id", "email"), Index("ix_billing_contact_email", "email"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))  # normalised: stripped and lowercased
    name: Mapped[str] = mapped_column(String(255))

    account: Mapped[AccountRecord] = relationship(back_populates="contacts")


class InvoiceRecord(Base):
    __tablename__ = "billing_invoice"
    __table_args__ = (
        UniqueConstraint("account_id", "number"),
        Index("ix_billing_invoice_account_status", "account_id", "status"),
        Index("ix_billing_invoice_status_due", "status", "due_on"),
        CheckConstraint("amount_due_minor >= 0", name="amount_due_not_negative"),
        CheckConstraint("amount_paid_minor >= 0", name="amount_paid_not_negative"),
        CheckConstraint("status in ('open', 'paid', 'void')", name="status_known"),
        Index("ix_billing_invoice_stripe_invoice_id", "stripe_invoice_id", unique=True),
        # The aging table and the staff view (revision 0011): every open invoice's amounts by due date,
        # read from the index alone; and the last days' invoiced amounts for DSO.
        Index(
            "ix_billing_invoice_open_aging",
            "due_on",
            "account_id",
            "currency",
            "amount_due_minor",
            "amount_paid_minor",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # The staff view's ranking (revision 0012): the open amounts of a few accounts, from the index alone.
        Index(
            "ix_billing_invoice_open_by_account",
            "account_id",
            "currency",
            "due_on",
            "amount_due_minor",
            "amount_paid_minor",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "ix_billing_invoice_issued",
            "issued_on",
            "currency",
            "amount_due_minor",
            postgresql_where=text("status <> 'void'"),
            sqlite_where=text("status <> 'void'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(128))
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    # Set with a compare-and-set UPDATE (... WHERE payment_lock_id IS NULL) while a payment for
    # this invoice is under way: the database, not memory, guarantees one charge per invoice.
    payment_lock_id: Mapped[int | None] = mapped_column(Integer)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The invoice's PDF or hosted page (http or https only, checked by the import).
    document_url: Mapped[str | None] = mapped_column(Text)
    # How it was closed from outside the bot: paid_elsewhere / void / uncollectible (revision 0006).
    closed_as: Mapped[str | None] = mapped_column(String(32))
    # The Stripe Billing invoice it mirrors (INVOICE_SOURCE=stripe), and how Stripe collects it.
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255))
    collection_method: Mapped[str | None] = mapped_column(String(32))


class OpenBalanceRecord(Base):
    """What one account owes in one currency on its open invoices (revision 0012): how many are open
    and the sum of their open amounts (``amount_due_minor - amount_paid_minor``, minor units; an
    open invoice paid beyond its amount counts 0, so ``owed_minor`` bounds any part of it, such as
    the overdue part, from above).

    Written only by the database's triggers on ``billing_invoice`` (insert, update, delete), so it
    is exact whichever code (or release) writes the invoices; never written from Python. A pair
    whose invoices are all closed keeps its row at 0 / 0. The staff view ranks from it
    (``billing_core.accounts.receivables.most_overdue``).
    """

    __tablename__ = "billing_open_balance"
    __table_args__ = (Index("ix_billing_open_balance_owed_minor", "owed_minor", "account_id", "currency"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    open_count: Mapped[int] = mapped_column(Integer)
    owed_minor: Mapped[int] = mapped_column(BigInteger)


class InvoicePaidElsewhereRecord(Base):
    """An invoice the vendor reported paid outside Slack (wire, cheque, their own portal).

    Not a payment the bot collected: ``payments export`` lists only ``PaymentRecord`` rows.
    """

    __tablename__ = "billing_invoice_paid_elsewhere"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_not_negative"),)

    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id", ondelete="CASCADE"), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(255))
    paid_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))  # api / import / stripe
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PaymentRecord(Base):
    __tablename__ = "billing_payment"
    __table_args__ = (
        Index("ix_billing_payment_account_created", "account_id", "created_at"),
        Index("ix_billing_payment_status", "status"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("status in ('pending', 'succeeded', 'failed', 'requires_action')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    started_by_email: Mapped[str] = mapped_column(String(320))
    started_by_principal: Mapped[str] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    action_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set (compare-and-set) just before the one Stripe call that may charge: a payment with it set
    # is never sent again, only looked up (retrieve or search by metadata).
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Who started it: "slack" (a person clicked Pay) or "autopay" (the scheduled charge).
    source: Mapped[str] = mapped_column(String(16), default="slack", server_default="slack")
    # Stripe's receipt page for the charge (``receipt_url``), when it gave one.
    receipt_url: Mapped[str | None] = mapped_column(Text)
    # After it succeeded: how much Stripe refunded (``charge.refunded``), and the state of a dispute
    # about it (``charge.dispute.*``: Stripe's status, e.g. needs_response, won, lost), if any.
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    dispute_status: Mapped[str | None] = mapped_column(String(32))
    # The payer's DM that told them the payment was received (channel, message ts; revision 0007):
    # a later refund or dispute is told as a reply in its thread. None before that DM was posted.
    receipt_dm_channel: Mapped[str | None] = mapped_column(String(64))
    receipt_dm_ts: Mapped[str | None] = mapped_column(String(32))

    invoices: Mapped[list[PaymentInvoiceRecord]] = relationship(back_populates="payment")


class PaymentInvoiceRecord(Base):
    """Which invoices a payment settles, and for how much of each."""

    __tablename__ = "billing_payment_invoice"

    payment_id: Mapped[int] = mapped_column(ForeignKey("billing_payment.id", ondelete="CASCADE"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("billing_invoice.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    payment: Mapped[PaymentRecord] = relationship(back_populates="invoices")


class PaymentMethodRecord(Base):
    """A cache of the cards on an account's Stripe customer. Stripe is the source of truth."""

    __tablename__ = "billing_payment_method"
    __table_args__ = (UniqueConstraint("account_id", "stripe_payment_method_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"))
    stripe_payment_method_id: Mapped[str] = mapped_column(String(255))
    brand: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    is_default: Mapped[bool] = mapped_column(default=False)
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CardSetupRecord(Base):
    """A hosted "add a card" page handed to someone, so the webhook can tell them when it is done."""

    __tablename__ = "billing_card_setup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"))
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    setup_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    requested_by_email: Mapped[str] = mapped_column(String(320))
    requested_by_principal: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # open / completed / expired
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PrincipalRecord(Base):
    """Someone who talks to the bot (for Slack: ``slack:<team>:<user>``) and what we know of them."""

    __tablename__ = "billing_principal"
    __table_args__ = (Index("ix_billing_principal_email", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str | None] = mapped_column(String(64))
    email_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active_account_id: Mapped[int | None] = mapped_column(ForeignKey("billing_account.id", ondelete="SET NULL"))
    verified_email: Mapped[str | None] = mapped_column(String(320))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # When this person last used the bot (throttled): reminders go to the workspace used last.
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class VerificationCodeRecord(Base):
    """A one-time code e-mailed to prove that a principal owns a billing contact's address.

    Only a keyed hash of the code is stored; ``status`` is pending, used, superseded, failed or revoked.
    """

    __tablename__ = "billing_verification_code"
    __table_args__ = (
        Index("ix_billing_verification_code_principal_created", "principal", "created_at"),
        Index("ix_billing_verification_code_email_created", "email", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    code_hash: Mapped[str] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditEventRecord(Base):
    __tablename__ = "billing_audit_event"
    __table_args__ = (Index("ix_billing_audit_event_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(320))
    principal: Mapped[str | None] = mapped_column(String(255))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("billing_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class StripeEventRecord(Base):
    """Every Stripe event seen, by id, so a replay is applied once."""

    __tablename__ = "billing_stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class JobLeaseRecord(Base):
    """Which process runs the scheduled jobs until ``expires_at`` (one row per lease name)."""

    __tablename__ = "billing_job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OnceMarkRecord(Base):
    """A (kind, key) that happened once already, shared by every process (``billing_core.marks``)."""

    __tablename__ = "billing_once_mark"
    __table_args__ = (Index("ix_billing_once_mark_at", "at"),)

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class ChatAnsweredRecord(Base):
    """A message in the app's DM that chat took in and answered (``billing_core.chat_answers``)."""

    __tablename__ = "billing_chat_answered"
    __table_args__ = (Index("ix_billing_chat_answered_answered_at", "answered_at"),)

    team_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ChatQuestionRecord(Base):
    """What chat asked a person last, or which invoices it listed (``billing_core.chat_questions``)."""

    __tablename__ = "billing_chat_question"

    team_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question: Mapped[str] = mapped_column(String(255))
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EscalationRecord(Base):
    """A hand-over to billing support. Stored first; an outbox worker e-mails it."""

    __tablename__ = "billing_escalation"
    __table_args__ = (
        Index("ix_billing_escalation_delivery", "delivery_status", "next_attempt_at"),
        Index("ix_billing_escalation_requester", "requester_principal", "status"),
        Index("ix_billing_escalation_staff_post", "slack_channel", "slack_ts"),
        Index("ix_billing_escalation_requester_dm", "requester_dm_channel", "requester_dm_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("billing_invoice.id", ondelete="SET NULL"))
    topic: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    requester_email: Mapped[str] = mapped_column(String(320))
    requester_name: Mapped[str] = mapped_column(String(255))
    requester_principal: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(32), default="user")  # user / reminder / overdue
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / resolved
    delivery_status: Mapped[str] = mapped_column(String(16), default="queued")  # queued/sent/failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    slack_channel: Mapped[str | None] = mapped_column(String(64))
    slack_ts: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The requester's DM thread with billing staff (its first message), once there is one.
    requester_dm_channel: Mapped[str | None] = mapped_column(String(64))
    requester_dm_ts: Mapped[str | None] = mapped_column(String(64))
    # Set while the request waits on the customer (state "waiting"; ``status`` stays "open").
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime())


class EscalationMessageRecord(Base):
    """One message of a support thread, relayed between the staff thread and the requester's DM
    thread; its follow-up e-mail to billing support is an outbox row like the escalation's own."""

    __tablename__ = "billing_escalation_message"
    __table_args__ = (
        UniqueConstraint("source_channel", "source_ts"),
        Index("ix_billing_escalation_message_escalation", "escalation_id", "created_at"),
        Index("ix_billing_escalation_message_email", "email_status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("billing_escalation.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(16))  # staff / requester
    author_principal: Mapped[str] = mapped_column(String(255))
    author_name: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    links: Mapped[str] = mapped_column(Text)  # JSON list of {"url", "name"}: files and links, never bytes
    source_channel: Mapped[str] = mapped_column(String(64))
    source_ts: Mapped[str] = mapped_column(String(64))
    relayed_channel: Mapped[str | None] = mapped_column(String(64))
    relayed_ts: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    email_status: Mapped[str] = mapped_column(String(16))  # queued / sending / sent / failed / none
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class ReminderDeliveryRecord(Base):
    """One reminder (invoice, contact, schedule step), claimed before it is sent."""

    __tablename__ = "billing_reminder_delivery"
    __table_args__ = (
        UniqueConstraint("invoice_id", "contact_id", "step"),
        Index("ix_billing_reminder_delivery_status", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("billing_contact.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)  # days relative to the due date (-7, 0, 3, ...)
    status: Mapped[str] = mapped_column(String(16))  # claimed / sent / failed / skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    channel: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(64))
    # The chat workspace the DM went to (several installed workspaces), for later updates.
    workspace: Mapped[str | None] = mapped_column(String(64))
    # Sent without its details to someone who has not proven the address yet; shown once proven.
    withheld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    thanked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class ReminderPauseRecord(Base):
    """Reminders for an invoice paused for a contact (snoozed, or "I've already paid")."""

    __tablename__ = "billing_reminder_pause"
    __table_args__ = (UniqueConstraint("invoice_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("billing_contact.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(String(32))


class AutopayRecord(Base):
    """An account's autopay switch: on or off, who turned it so and when (one row per account)."""

    __tablename__ = "billing_autopay"

    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by_email: Mapped[str] = mapped_column(String(320))
    changed_by_principal: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AutopayAttemptRecord(Base):
    """One autopay charge of one invoice (attempt 1 on the due date, 2 and 3 the retries).

    The unique (invoice, attempt) row is inserted in the transaction that starts the payment, so
    two passes running at once can never both charge the same invoice for the same attempt.
    """

    __tablename__ = "billing_autopay_attempt"
    __table_args__ = (
        UniqueConstraint("invoice_id", "attempt"),
        Index("ix_billing_autopay_attempt_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("billing_payment.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20))  # pending / requires_action / charged / declined
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CardExpiryNoticeRecord(Base):
    """A "your default card expires soon" DM to one contact, per card and threshold (30, 7 days).

    Inserted before the DM is sent (the unique key is the once-only guard), deleted again if
    sending failed so the next sweep tries again.
    """

    __tablename__ = "billing_card_expiry_notice"
    __table_args__ = (UniqueConstraint("contact_id", "stripe_payment_method_id", "threshold"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("billing_contact.id", ondelete="CASCADE"))
    stripe_payment_method_id: Mapped[str] = mapped_column(String(255))
    threshold: Mapped[int] = mapped_column(Integer)  # days: 30 or 7
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutboundEventRecord(Base):
    """Something the vendor's systems hear of (a signed webhook event, a receipt e-mail), stored in
    the same transaction as the happening and delivered by ``billing_core.outbound`` afterwards."""

    __tablename__ = "billing_outbound_event"
    __table_args__ = (
        Index("ix_billing_outbound_event_due", "status", "next_attempt_at"),
        Index("ix_billing_outbound_event_subject", "subject"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # evt_...: the same on every retry
    channel: Mapped[str] = mapped_column(String(16))  # webhook / email
    type: Mapped[str] = mapped_column(String(64))  # payment.succeeded, escalation.created, receipt ...
    subject: Mapped[str] = mapped_column(String(64))  # payment:12, escalation:3
    body: Mapped[str] = mapped_column(Text)  # the exact JSON sent (signed anew per attempt)
    status: Mapped[str] = mapped_column(String(16))  # queued / sending / delivered / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ContactPreferenceRecord(Base):
    """One billing contact's notification choices (a person's e-mail on one account).

    ``introduced_at``: the first DM introduced the bot. ``reminders_stopped_at``: "Stop reminders"
    (reversible from the App Home). ``not_me_at``: "Not me", the address is not this person's;
    billing staff are told. Either stops reminders to that contact; receipts and security messages
    still go out.
    """

    __tablename__ = "billing_contact_preference"

    contact_id: Mapped[int] = mapped_column(ForeignKey("billing_contact.id", ondelete="CASCADE"), primary_key=True)
    introduced_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reminders_stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    not_me_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    changed_by: Mapped[str | None] = mapped_column(String(255))  # the principal of the last change
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TokenRefreshRecord(Base):
    """The row a Slack installation's token refresh locks, so one replica at a time exchanges its
    single-use refresh token (``bot.slack.token_rotation``)."""

    __tablename__ = "billing_token_refresh"

    installation: Mapped[str] = mapped_column(String(255), primary_key=True)  # T123, E1:T123 or E1
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    refreshes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PromiseToPayRecord(Base):
    """A payer's "I'll pay on <date>" for an account (revision 0011).

    The account's reminders pause while ``status`` is ``open`` and ``until`` (the end of
    ``promised_on`` in the billing time zone) is ahead; then the sweep settles it ``kept`` or
    ``broken`` (the invoices open when it was made still open), and reminders restart. A newer
    promise for the account marks the older one ``replaced``.
    """

    __tablename__ = "billing_promise_to_pay"
    __table_args__ = (
        CheckConstraint("status in ('open', 'kept', 'broken', 'replaced')", name="status_known"),
        Index("ix_billing_promise_to_pay_account_status", "account_id", "status"),
        Index("ix_billing_promise_to_pay_status_until", "status", "until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"))
    promised_on: Mapped[date] = mapped_column(Date)
    until: Mapped[datetime] = mapped_column(UtcDateTime())
    made_by_email: Mapped[str] = mapped_column(String(320))
    made_by_principal: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReminderHoldRecord(Base):
    """Billing staff paused every reminder of an account until ``until`` (revision 0011); resuming deletes it."""

    __tablename__ = "billing_reminder_hold"

    account_id: Mapped[int] = mapped_column(ForeignKey("billing_account.id", ondelete="CASCADE"), primary_key=True)
    until: Mapped[datetime] = mapped_column(UtcDateTime())
    held_by: Mapped[str] = mapped_column(String(255))  # the staff member's principal
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SlackLimitRecord(Base):
    """Slack rate limits shared by every process, per workspace (``bot.slack.workspace_leases``).

    ``method = "*"``: the workspace's lease; ``holder`` (a process) alone calls Slack in that
    workspace until ``until``, so its own per-method budgets are the workspace's; a lapsed lease
    is taken over as if its holder had used every method's whole budget until ``until``.
    Any other ``method``: no call of it in that workspace before ``until`` (Slack's ``Retry-After``).
    """

    __tablename__ = "billing_slack_limit"

    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)  # T123 or E1:T123
    method: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(255))
    until: Mapped[datetime] = mapped_column(UtcDateTime())
    # A given-back lease: the most calls of one tiered method its holder made in the rate window
    # before ``until`` (its last call); the next holder counts them as its own.
    calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
