"""The pay modal (summary, card picker, confirm with the exact amount) and payment outcomes."""

from __future__ import annotations

from billing_core.money import Money
from billing_core.views import AccountView, InvoiceView, PaymentMethodView, PaymentView
from handlers.accounts.invoices_blocks import invoice_line
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    context,
    escape_code,
    escape_line,
    fmt_date,
    link_button,
    modal,
    plain,
    possessive,
    section,
    support_button,
)
from handlers.kit.documents import view_invoice_button, view_receipt_button
from handlers.kit.ids import (
    ADD_CARD_ACTION,
    PAY_METHOD_BLOCK,
    PAY_METHOD_SELECT,
    PAY_MODAL_CALLBACK,
    PAY_OPEN_ACTION,
    SHOW_INVOICES_ACTION,
)
from handlers.kit.payloads import AccountRef, PayTarget
from handlers.payments.history_blocks import card_label
from handlers.payments.payloads import PayModalMetadata


def pay_target(account: str, invoice: str | None) -> str:
    """The value of a Pay button for one invoice (``invoice``) or the full balance (``None``)."""
    return PayTarget.of(account, invoice).encode()


def method_picker(methods: list[PaymentMethodView]) -> Block:
    options = [{"text": plain(m.label), "value": m.id[:150]} for m in methods[:100]]
    element: Block = {
        "type": "static_select",
        "action_id": PAY_METHOD_SELECT,
        "placeholder": plain("Choose a card"),
        "options": options,
    }
    default = next((m for m in methods if m.is_default), methods[0])
    element["initial_option"] = next(o for o in options if o["value"] == default.id[:150])
    return {"type": "input", "block_id": PAY_METHOD_BLOCK, "label": plain("Pay with"), "element": element}


def pay_modal(
    account: AccountView,
    invoices: list[InvoiceView],
    amount: Money,
    methods: list[PaymentMethodView],
    *,
    invoice: str | None,
) -> Block:
    """Confirm one invoice (``invoice``) or the whole balance; submit shows the exact amount."""
    if invoice:
        summary = f"*{escape_line(account.name)}*\n" + invoice_line(invoices[0])
        metadata = PayModalMetadata(account=account.external_id, invoice=invoice)
    else:
        rows = "\n".join(
            f"• {escape_line(i.number)} · {i.outstanding.format()} · due {fmt_date(i.due_on)}" for i in invoices[:20]
        )
        more = f"\n…and {len(invoices) - 20} more" if len(invoices) > 20 else ""
        summary = f"*{escape_line(account.name)}*: full open balance\n{rows}{more}\n*Total: {amount.format()}*"
        metadata = PayModalMetadata(account=account.external_id, balance=True, expected=amount.amount_minor)
    document = view_invoice_button(invoices[0].document_url) if invoice and invoices else None
    blocks: list[Block] = [section(summary, accessory=document)]
    add_card = button("Add a new card", ADD_CARD_ACTION, AccountRef(account=account.external_id).encode())
    if methods:
        blocks.append(method_picker(methods))
        blocks.append(actions(add_card, block_id="pay_add_card"))
        blocks.append(context("Only the card's brand, last four digits and expiry are ever shown here."))
        return modal(
            "Confirm payment",
            blocks,
            callback_id=PAY_MODAL_CALLBACK,
            submit=f"Pay {amount.format()}",
            close="Cancel",
            private_metadata=metadata.encode(),
        )
    blocks.append(section("There's no saved card on this account yet. Add one, then come back to pay."))
    blocks.append(actions(add_card, block_id="pay_add_card"))
    return modal("Confirm payment", blocks, close="Close", private_metadata=metadata.encode())


def processing_view(amount_text: str = "") -> Block:
    what = f" of {amount_text}" if amount_text else ""
    return modal(
        "Payment",
        [section(f":hourglass_flowing_sand: Processing your payment{what}… This can take a few seconds.")],
    )


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


def partial_payment_screen(account: AccountView, argument: str, invoices: list[InvoiceView]) -> Screen:
    blocks: list[Block] = [
        section(
            f"I can only pay a whole invoice or the full open balance, and `{escape_code(argument[:60])}` isn't one "
            f"of {escape_line(possessive(account.name))} open invoices. For a partial payment or a payment plan, "
            "billing support can help."
        ),
        actions(
            support_button(account.external_id, topic="partial_payment", text="Ask billing support"),
            button("Show open invoices", SHOW_INVOICES_ACTION, AccountRef(account=account.external_id).encode()),
            block_id="partial_actions",
        ),
    ]
    if invoices:
        more = f" and {len(invoices) - 20} more (`/billing invoices`)" if len(invoices) > 20 else ""
        blocks.append(context("Open: " + ", ".join(escape_line(i.number) for i in invoices[:20]) + more))
    return Screen("Only whole invoices or the full balance can be paid here.", blocks, title="Partial payment")


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
