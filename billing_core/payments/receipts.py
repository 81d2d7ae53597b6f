"""The payer's receipt e-mail: recorded in the settling transaction (``settlement.py``) as an
outbound event on the ``email`` channel, so it is sent once, after the commit, with retries.

The event's data holds everything the message needs; the message is built when it is sent.
"""

from __future__ import annotations

import html
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.db.tables import AccountRecord, ContactRecord, PaymentRecord
from billing_core.identity.emails import is_valid_email
from billing_core.mail_headers import one_line
from billing_core.money import Money
from billing_core.outbound.events import EMAIL, record_event

RECEIPT = "payment.receipt"


def payment_reference(payment_id: int) -> str:
    """How a person names a payment (in the receipt, the DM and the history)."""
    return f"payment #{payment_id}"


def record_receipt(session: Session, payment: PaymentRecord, numbers: tuple[str, ...], *, now: datetime) -> None:
    """Queue the receipt for ``payment`` (succeeded) to its payer, when receipts are on. A charge
    the bot made itself (autopay) has no person who clicked: each of the account's contacts gets it,
    as they get its DM."""
    account = session.get(AccountRecord, payment.account_id)
    assert account is not None
    if is_valid_email(payment.started_by_email):
        recipients = [payment.started_by_email.strip().lower()]
    elif payment.source == "autopay":
        emails = session.scalars(select(ContactRecord.email).where(ContactRecord.account_id == account.id))
        recipients = sorted({e.strip().lower() for e in emails if is_valid_email(e)})
    else:
        return
    for recipient in recipients:
        record_event(
            session,
            channel=EMAIL,
            type=RECEIPT,
            subject=f"payment:{payment.id}",
            now=now,
            data={
                "to": recipient,
                "payment_id": payment.id,
                "reference": payment_reference(payment.id),
                "account_name": account.name,
                "amount": payment.amount_minor,
                "currency": payment.currency,
                "invoices": list(numbers),
                "card_brand": payment.card_brand or "",
                "card_last4": payment.card_last4 or "",
                "stripe_payment_intent_id": payment.stripe_payment_intent_id or "",
                "paid_at": (payment.settled_at or now).isoformat(),
                "receipt_url": payment.receipt_url or "",
            },
        )


def build_receipt_email(event_id: str, data: dict[str, Any], *, sender: str) -> EmailMessage:
    """Plain text plus HTML: amount, invoices, card brand and last four, reference.

    The Message-ID comes from the event id: a copy re-sent after a crash can be dropped as a duplicate.
    """
    amount = Money(int(data["amount"]), str(data["currency"])).format()
    invoices = one_line(", ".join(data["invoices"])) or "(none)"
    card = f"{str(data['card_brand']).title() or 'Card'} ending in {data['card_last4'] or '????'}"
    reference = str(data["reference"])
    account = one_line(str(data["account_name"]))
    domain = sender.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["Subject"] = f"Receipt: {amount} paid to {account}"[:200]
    message["From"] = sender
    message["To"] = one_line(str(data["to"]))
    message["Message-ID"] = f"<{event_id}@{domain}>"
    lines = [
        f"Thank you, your payment to {account} was received.",
        "",
        f"Amount:    {amount}",
        f"Invoices:  {invoices}",
        f"Card:      {card}",
        f"Reference: {reference}",
    ]
    if data.get("stripe_payment_intent_id"):
        lines.append(f"Processor: {data['stripe_payment_intent_id']}")
    if data.get("receipt_url"):
        lines.append(f"Card processor's receipt: {data['receipt_url']}")
    message.set_content("\n".join(lines) + "\n")
    rows = [("Amount", amount), ("Invoices", invoices), ("Card", card), ("Reference", reference)]
    if data.get("receipt_url"):
        rows.append(("Card processor's receipt", str(data["receipt_url"])))
    table = "".join(f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    message.add_alternative(
        f"<html><body><p>Thank you, your payment to {html.escape(account)} was received.</p>"
        f"<table>{table}</table></body></html>",
        subtype="html",
    )
    return message
