"""A payment's outcome as the payer sees it (after a click, by DM, in autopay's notices): received
with its receipt, declined with the reason and next steps, the bank's authentication link, pending,
or what happened after (refunded, disputed)."""

from __future__ import annotations

from billing_core.views import PaymentView
from handlers.kit.blocks import Screen, actions, button, escape_line, fmt_date, link_button, section, support_button
from handlers.kit.documents import view_receipt_button
from handlers.kit.ids import PAY_OPEN_ACTION
from handlers.kit.payloads import PayTarget


def card_label(payment: PaymentView) -> str:
    if payment.card_brand and payment.card_last4:
        return escape_line(f"{payment.card_brand.title()} •••• {payment.card_last4}")
    return "card"


def pay_target(account: str, invoice: str | None) -> str:
    """The value of a Pay button for one invoice (``invoice``) or the full balance (``None``)."""
    return PayTarget.of(account, invoice).encode()


def outcome_screen(payment: PaymentView, account_name: str) -> Screen:
    """Success with receipt, decline with reason and next steps, or the authentication link."""
    invoices = ", ".join(escape_line(n) for n in payment.invoice_numbers) or "—"
    amount = payment.amount.format()
    single = payment.invoice_numbers[0] if len(payment.invoice_numbers) == 1 else None
    retry = pay_target(payment.account_external_id, single)
    if payment.state in ("refunded", "partially_refunded", "disputed"):
        return _after_payment_screen(payment, account_name, invoices)
    if payment.status == "succeeded":
        when = fmt_date(payment.settled_at or payment.created_at)
        text = f"Payment received: {amount} for {account_name}."
        blocks = [
            section(f":white_check_mark: *Payment received: {amount}*"),
            section(
                f"*Account:* {escape_line(account_name)}\n*Invoices:* {invoices}\n*Card:* {card_label(payment)}\n"
                f"*Date:* {when}\n*Receipt:* payment #{payment.id}"
            ),
        ]
        receipt = view_receipt_button(payment.receipt_url)
        if receipt is not None:
            blocks.append(actions(receipt, block_id="payment_receipt"))
        return Screen(text, blocks, title="Payment received")
    if payment.status == "failed":
        reason = escape_line(payment.failure_reason or "the card was declined")
        text = f"Payment of {amount} failed: {(payment.failure_reason or 'declined').rstrip('.')}."
        blocks = [
            section(f":x: *The payment of {amount} didn't go through.*\nReason: {reason}\nNothing was charged."),
            actions(
                button("Try another card", PAY_OPEN_ACTION, retry, style="primary"),
                support_button(
                    payment.account_external_id,
                    invoice=single or "",
                    topic="payment_declined",
                ),
                block_id="declined_actions",
            ),
        ]
        return Screen(text, blocks, title="Payment declined")
    if payment.status == "requires_action" and payment.action_url:
        text = f"Your bank needs you to confirm the payment of {amount}: {payment.action_url}"
        blocks = [
            section(
                f":lock: *Your bank needs you to confirm this payment of {amount}.*\n"
                "Open the secure page to finish. I'll send you a DM when it's done."
            ),
            actions(link_button("Complete authentication", payment.action_url, f"auth_{payment.id}", style="primary")),
        ]
        return Screen(text, blocks, title="Confirm with your bank")
    text = f"Your payment of {amount} is being confirmed."
    blocks = [
        section(
            f":hourglass_flowing_sand: *Your payment of {amount} is being confirmed with the bank.*\n"
            "I'll send you a DM as soon as it settles. Nothing will be charged twice."
        )
    ]
    return Screen(text, blocks, title="Payment pending")


def _after_payment_screen(payment: PaymentView, account_name: str, invoices: str) -> Screen:
    """What Stripe said after a payment succeeded: a refund (in full or in part) or a dispute."""
    amount = payment.amount.format()
    details = section(
        f"*Account:* {escape_line(account_name)}\n*Invoices:* {invoices}\n"
        f"*Card:* {card_label(payment)}\n*Receipt:* payment #{payment.id}"
    )
    if payment.state == "disputed":
        text = f"A dispute was opened about your payment of {amount} for {account_name}."
        head = (
            f":warning: *Your payment of {amount} is disputed* with your bank. Billing support has been "
            "told, and autopay is paused for this account."
        )
        return Screen(text, [section(head), details], title="Payment disputed")
    refunded = payment.refunded.format() if payment.refunded is not None else amount
    full = payment.state == "refunded"
    what = "Refunded" if full else "Partly refunded"
    text = f"{what}: {refunded} of your payment of {amount} for {account_name}."
    reopened = "\nThe invoices it paid are open again." if full else ""
    head = f":leftwards_arrow_with_hook: *{what}: {refunded}* of {amount}.{reopened}"
    return Screen(text, [section(head), details], title="Payment refunded")
