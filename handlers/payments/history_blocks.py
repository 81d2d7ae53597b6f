"""Payment history, a page at a time: date, amount, card, invoices settled, status."""

from __future__ import annotations

from billing_core.views import AccountView, Page, PaidElsewhereView, PaymentView
from handlers.kit.blocks import Block, Screen, actions, button, context, escape_line, fmt_date, section
from handlers.kit.documents import view_receipt_button
from handlers.kit.ids import SHOW_HISTORY_ACTION, SHOW_HISTORY_PREVIOUS_ACTION
from handlers.kit.payloads import HistoryPage
from handlers.kit.payment_outcome import card_label

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
        nav.append(button("Previous", SHOW_HISTORY_PREVIOUS_ACTION, _page(account, page.page - 1)))
    if page.has_next:
        nav.append(button("Next", SHOW_HISTORY_ACTION, _page(account, page.page + 1)))
    if nav:
        blocks.append(actions(*nav, block_id="history_nav"))
    return Screen(f"{account.name}: payment history, page {page.page + 1}", blocks, title="History")


def _page(account: AccountView, page: int) -> str:
    return HistoryPage(account=account.external_id, page=page).encode()
