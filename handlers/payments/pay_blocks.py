"""The pay modal (summary, card picker, confirm with the exact amount) and payment outcomes."""

from __future__ import annotations

from billing_core.money import Money
from billing_core.views import AccountView, InvoiceView, PaymentMethodView
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    context,
    escape_code,
    escape_line,
    fmt_date,
    modal,
    plain,
    possessive,
    section,
    support_button,
)
from handlers.kit.documents import view_invoice_button
from handlers.kit.ids import (
    ADD_CARD_ACTION,
    PAY_METHOD_BLOCK,
    PAY_METHOD_SELECT,
    PAY_MODAL_CALLBACK,
    SHOW_INVOICES_ACTION,
)
from handlers.kit.invoice_blocks import invoice_line
from handlers.kit.payloads import AccountRef
from handlers.payments.payloads import PayModalMetadata


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
