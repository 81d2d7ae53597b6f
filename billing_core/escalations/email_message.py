"""The escalation e-mail: a plain-text body plus an HTML alternative, built from an escalation.

Everything the requester typed is treated as data: in the text part it is quoted line by line so it
cannot pose as one of our own fields, and in the HTML part it is HTML-escaped.
"""

from __future__ import annotations

import html
from email.headerregistry import Address
from email.message import EmailMessage

from billing_core.escalations.views import EscalationDetail, EscalationView
from billing_core.identity.emails import is_valid_email
from billing_core.mail_headers import one_line
from billing_core.views import InvoiceView, PaymentView

MAX_DISPLAY_NAME = 64


def subject_line(detail: EscalationDetail) -> str:
    """``[ESC-000123] <topic>: <account name>``, on one line."""
    esc = detail.escalation
    return one_line(f"[{esc.reference}] {esc.topic_label}: {esc.account_name}")


def safe_display_name(name: str) -> str:
    """A display name that cannot turn one address header into several.

    Quoting is not enough: Python's header folder drops the quotes of a long display name when it
    wraps the line, so ``"A..., mallory@evil.test, B" <ann@...>`` would be sent as three addresses.
    Only letters, digits, spaces, ``'``, ``-`` and ``_`` are kept (no specials left to quote), and
    the name is cut to 64 characters.
    """
    kept = "".join(char if char.isalnum() or char in " '-_" else " " for char in name)
    return " ".join(kept.split())[:MAX_DISPLAY_NAME].strip()


def build_escalation_email(detail: EscalationDetail, *, sender: str, recipient: str, domain: str) -> EmailMessage:
    """The message to ``recipient`` with Reply-To the requester.

    The Message-ID is derived from the reference, so a message re-sent after a crash carries the
    same id and a mail system can drop the copy.
    """
    esc = detail.escalation
    message = EmailMessage()
    message["Subject"] = subject_line(detail)
    message["From"] = sender
    message["To"] = recipient
    if is_valid_email(esc.requester_email):
        message["Reply-To"] = Address(display_name=safe_display_name(esc.requester_name), addr_spec=esc.requester_email)
    message["Message-ID"] = escalation_message_id(esc, domain)
    message["X-Billing-Escalation"] = esc.reference
    message.set_content(plain_body(detail))
    message.add_alternative(html_body(detail), subtype="html")
    return message


def escalation_message_id(esc: EscalationView, domain: str) -> str:
    """The request e-mail's Message-ID (its thread's follow-ups name it in In-Reply-To)."""
    return f"<{esc.reference.lower()}.{esc.created_at:%Y%m%d%H%M%S}@{domain}>"


def plain_body(detail: EscalationDetail) -> str:
    esc = detail.escalation
    lines = [
        f"Escalation {esc.reference}: {esc.topic_label}",
        f"Raised {esc.created_at:%Y-%m-%d %H:%M} UTC ({_origin(esc.origin)})",
        "",
        "Account",
        f"  {one_line(esc.account_name)} (id {one_line(esc.account_external_id)})",
        "",
        "Requester",
        f"  Name:   {one_line(esc.requester_name) or '-'}",
        f"  E-mail: {one_line(esc.requester_email)}",
        f"  Chat:   {one_line(detail.requester_chat_identity)}",
        "",
    ]
    if detail.related_invoice is not None:
        lines += ["Related invoice", "  " + _invoice_line(detail.related_invoice), ""]
    lines.append("Open invoices")
    lines += ["  " + _invoice_line(i) for i in detail.open_invoices] or ["  none"]
    lines += ["", "Recent payment attempts"]
    lines += ["  " + _payment_line(p) for p in detail.recent_payments] or ["  none"]
    lines += ["", "Message (as typed by the requester)"]
    lines += ["> " + line for line in (esc.message or "(no message)").split("\n")]
    lines += ["", f"Reply to this e-mail to answer {esc.requester_email}."]
    return "\n".join(lines) + "\n"


def html_body(detail: EscalationDetail) -> str:
    esc = detail.escalation
    e = html.escape

    def rows(items: list[str]) -> str:
        return "".join(f"<li>{e(item)}</li>" for item in items) or "<li>none</li>"

    related = (
        f"<h3>Related invoice</h3><ul>{rows([_invoice_line(detail.related_invoice)])}</ul>"
        if detail.related_invoice is not None
        else ""
    )
    return (
        f"<html><body><h2>{e(esc.reference)}: {e(esc.topic_label)}</h2>"
        f"<p>Account: <b>{e(esc.account_name)}</b> (id {e(esc.account_external_id)})</p>"
        f"<p>Requester: {e(esc.requester_name)} &lt;{e(esc.requester_email)}&gt;, "
        f"{e(detail.requester_chat_identity)}</p>"
        f"{related}<h3>Open invoices</h3><ul>{rows([_invoice_line(i) for i in detail.open_invoices])}</ul>"
        f"<h3>Recent payment attempts</h3><ul>{rows([_payment_line(p) for p in detail.recent_payments])}</ul>"
        f"<h3>Message</h3><pre>{e(esc.message)}</pre></body></html>\n"
    )


def _invoice_line(invoice: InvoiceView) -> str:
    overdue = ", OVERDUE" if invoice.overdue else ""
    return (
        f"{one_line(invoice.number)}: {invoice.outstanding.format()} outstanding of "
        f"{invoice.amount_due.format()}, due {invoice.due_on.isoformat()} ({invoice.status}{overdue})"
    )


def _payment_line(payment: PaymentView) -> str:
    card = f" with {payment.card_brand} ending {payment.card_last4}" if payment.card_last4 else ""
    invoices = ", ".join(payment.invoice_numbers) or "-"
    reason = f" ({one_line(payment.failure_reason)})" if payment.failure_reason else ""
    return (
        f"{payment.created_at:%Y-%m-%d %H:%M} {payment.amount.format()}{card} for {invoices}: {payment.status}{reason}"
    )


def _origin(origin: str) -> str:
    return {
        "user": "raised by the requester",
        "reminder": "from a payment reminder",
        "security": "from a security check",
        "payment": "from the card processor's answers",
    }.get(origin, "raised automatically")
