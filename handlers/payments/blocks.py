"""The pay modal (summary, card picker, confirm with the exact amount) and payment outcomes.

Saved cards: brand, last four, expiry, default; Make default, Remove (confirmed), Add card.

Payment history, a page at a time: date, amount, card, invoices settled, status."""

from __future__ import annotations

from billing_core.autopay.switch import AutopayStatus
from billing_core.money import Money
from billing_core.views import AccountView, InvoiceView, Page, PaidElsewhereView, PaymentMethodView, PaymentView
from handlers.kit.autopay_row import autopay_row
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    confirm_dialog,
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
from handlers.kit.ids import ADD_CARD_ACTION, SHOW_HISTORY_ACTION, SHOW_INVOICES_ACTION, SHOW_METHODS_ACTION
from handlers.kit.invoice_blocks import invoice_line
from handlers.kit.payloads import AccountRef, HistoryPage
from handlers.kit.payment_outcome import card_label
from handlers.payments.ids import (
    METHOD_MAKE_DEFAULT_ACTION,
    METHOD_REMOVE_ACTION,
    PAY_METHOD_BLOCK,
    PAY_METHOD_SELECT,
    PAY_MODAL_CALLBACK,
    SHOW_HISTORY_PREVIOUS_ACTION,
    SHOW_METHODS_PAGE_ACTION,
)
from handlers.payments.payloads import MethodsPage, MethodTarget, PayModalMetadata


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


CARDS_PER_PAGE = 20  # a card is two blocks; a message holds 50


def method_rows(account: AccountView, methods: list[PaymentMethodView], *, autopay_on: bool = False) -> list[Block]:
    blocks: list[Block] = []
    # Removing the last card of an autopay account turns autopay off: the dialog says so first.
    last_card = autopay_on and len(methods) == 1
    last_card_warning = " Autopay is on: with no card left it will be turned off." if last_card else ""
    for method in methods[:CARDS_PER_PAGE]:
        label = escape_line(method.label) + (" · *default*" if method.is_default else "")
        blocks.append(section(label))
        target = MethodTarget(account=account.external_id, method=method.id).encode()
        elements: list[Block] = []
        if not method.is_default:
            elements.append(button("Make default", METHOD_MAKE_DEFAULT_ACTION, target))
        elements.append(
            button(
                "Remove",
                METHOD_REMOVE_ACTION,
                target,
                style="danger",
                confirm=confirm_dialog(
                    "Remove this card?",
                    f"{escape_line(method.brand.title())} ending in {escape_line(method.last4)} will be removed from "
                    f"{escape_line(account.name)}.{last_card_warning}",
                    "Remove",
                    danger=True,
                ),
            )
        )
        blocks.append(actions(*elements, block_id=f"method_{method.id}"[:255]))
    return blocks


def methods_screen(
    account: AccountView,
    methods: list[PaymentMethodView],
    autopay: AutopayStatus | None = None,
    *,
    page: int = 0,
) -> Screen:
    """The saved cards, 20 a page (past the first page "More cards" and "First cards" reach the rest);
    with ``autopay`` its line and toggle under them."""
    pages = max(1, -(-len(methods) // CARDS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = methods[page * CARDS_PER_PAGE : (page + 1) * CARDS_PER_PAGE]
    blocks: list[Block] = [section(f"*Payment methods for {escape_line(account.name)}*")]
    if methods:
        autopay_on = autopay is not None and autopay.enabled
        blocks.extend(method_rows(account, shown, autopay_on=autopay_on and len(methods) == 1))
    else:
        blocks.append(section("No saved cards yet."))
    add_card = button("Add card", ADD_CARD_ACTION, AccountRef(account=account.external_id).encode())
    elements = [add_card]
    if pages > 1:
        after = len(methods) - (page + 1) * CARDS_PER_PAGE
        first = page * CARDS_PER_PAGE + 1
        more = f" · and {after} more" if after > 0 else ""
        blocks.append(context(f"Cards {first}–{first + len(shown) - 1} of {len(methods)}{more}"))
        if page > 0:
            # The screen's own button (page 0): two equal action ids in one block are refused by Slack.
            first_page = AccountRef(account=account.external_id).encode()
            elements.append(button("First cards", SHOW_METHODS_ACTION, first_page))
        if after > 0:
            elements.append(button("More cards", SHOW_METHODS_PAGE_ACTION, _page(account, page + 1)))
    blocks.append(actions(*elements, block_id="add_card"))
    if autopay is not None:
        blocks.extend(autopay_row(autopay))
    text = f"{account.name}: {len(methods)} saved card(s)"
    return Screen(text, blocks, title="Payment methods")


def add_card_screen(account: AccountView, url: str) -> Screen:
    blocks: list[Block] = [
        section(
            f"Add a card to *{escape_line(account.name)}* on Stripe's secure page. Card details never pass "
            "through Slack or our servers. I'll send you a DM once the card is ready to use."
        ),
        actions(link_button("Add a card securely", url, "add_card", style="primary")),
    ]
    return Screen(f"Add a card to {account.name}: {url}", blocks, title="Add a card")


def card_added_screen(account_name: str, card: PaymentMethodView) -> Screen:
    text = f"Your card {card.label} was added to {account_name}."
    return Screen(text, [section(f":credit_card: {escape_line(text)} You can pay with it now.")], title="Card added")


def _page(account: AccountView, page: int) -> str:
    return MethodsPage(account=account.external_id, page=page).encode()


_STATUS = {
    "succeeded": ":white_check_mark: paid",
    "failed": ":x: failed",
    "pending": ":hourglass_flowing_sand: pending",
    "requires_action": ":lock: awaiting authentication",
    "refunded": ":leftwards_arrow_with_hook: refunded",
    "partially_refunded": ":leftwards_arrow_with_hook: partly refunded",
    "disputed": ":warning: disputed",
}


def status_label(status: str) -> str:
    return _STATUS.get(status, status.replace("_", " "))


def payment_line(payment: PaymentView) -> str:
    invoices = ", ".join(escape_line(n) for n in payment.invoice_numbers) or "—"
    line = (
        f"*{fmt_date(payment.created_at)}* · {payment.amount.format()} · {card_label(payment)} · "
        f"{status_label(payment.state or payment.status)}\nInvoices: {invoices}"
    )
    if payment.state == "partially_refunded" and payment.refunded is not None:
        line += f"\nRefunded: {payment.refunded.format()}"
    if payment.status == "failed" and payment.failure_reason:
        line += f"\nReason: {escape_line(payment.failure_reason)}"
    return line


def paid_elsewhere_line(item: PaidElsewhereView) -> str:
    how = escape_line(item.method[:64])
    if item.reference:
        how += f" {escape_line(item.reference[:255])}"
    return (
        f"*{fmt_date(item.paid_on)}* · {item.amount.format()} · {how} · :white_check_mark: paid outside Slack\n"
        f"Invoice: {escape_line(item.invoice_number)}"
    )


def history_screen(
    account: AccountView, page: Page[PaymentView], outside: tuple[PaidElsewhereView, ...] = ()
) -> Screen:
    """The payments made through the bot, a page at a time; on the first page also the invoices
    the vendor reported paid outside Slack (wire, cheque, their own portal)."""
    blocks: list[Block] = [section(f"*Payment history for {escape_line(account.name)}*")]
    if not page.items and not (outside and page.page == 0):
        blocks.append(section("No payments yet." if page.page == 0 else "No more payments."))
    blocks.extend(section(payment_line(p), accessory=view_receipt_button(p.receipt_url)) for p in page.items)
    if outside and page.page == 0:
        blocks.append(section("*Paid outside Slack*"))
        blocks.extend(section(paid_elsewhere_line(item)) for item in outside[:10])
    pages = max(1, -(-page.total // page.page_size))
    blocks.append(context(f"Page {page.page + 1} of {pages} · {page.total} payment(s)"))
    nav: list[Block] = []
    if page.has_previous:
        nav.append(button("Previous", SHOW_HISTORY_PREVIOUS_ACTION, _history_page(account, page.page - 1)))
    if page.has_next:
        nav.append(button("Next", SHOW_HISTORY_ACTION, _history_page(account, page.page + 1)))
    if nav:
        blocks.append(actions(*nav, block_id="history_nav"))
    return Screen(f"{account.name}: payment history, page {page.page + 1}", blocks, title="History")


def _history_page(account: AccountView, page: int) -> str:
    return HistoryPage(account=account.external_id, page=page).encode()
