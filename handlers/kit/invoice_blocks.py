"""Open invoices, each with a Pay button, and "Pay full balance"."""

from __future__ import annotations

from functools import lru_cache

from billing_core.views import AccountView, InvoiceView
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    context,
    escape_line,
    fmt_date,
    pay_label,
    section,
)
from handlers.kit.documents import view_invoice_button
from handlers.kit.ids import PAY_OPEN_ACTION
from handlers.kit.payloads import PayTarget

_MAX_ROWS = 40
_DRAWN_ROWS = 4096  # invoices whose rows are kept drawn (a few hundred bytes each)


def invoice_line(invoice: InvoiceView) -> str:
    line = f"*{escape_line(invoice.number)}* · {invoice.outstanding.format()} · due {fmt_date(invoice.due_on)}"
    if invoice.overdue:
        line += " · :warning: *overdue*"
    if invoice.payment_in_progress:
        line += " · _payment in progress_"
    if invoice.description:
        line += f"\n{escape_line(invoice.description)}"
    return line


def invoice_row(invoice: InvoiceView) -> Block:
    """The invoice's line, with Pay unless a payment is under way or nothing is left to pay."""
    if invoice.payment_in_progress or invoice.outstanding.amount_minor <= 0:
        return section(invoice_line(invoice))
    pay = button(
        "Pay",
        PAY_OPEN_ACTION,
        PayTarget.of(invoice.account_external_id, invoice.number).encode(),
        style="primary",
        accessibility_label=pay_label(invoice.number, invoice.outstanding.format()),
    )
    return section(invoice_line(invoice), accessory=pay)


def invoice_rows(invoices: list[InvoiceView], budget: int) -> list[Block]:
    """Each invoice's row, plus a "View invoice" button under those with a document while the
    ``budget`` of blocks allows (every row is shown first; the buttons get what is left)."""
    spare = budget - len(invoices)
    blocks: list[Block] = []
    for invoice in invoices:
        row, document = _drawn(invoice)
        blocks.append(row)
        if document is not None and spare > 0:
            blocks.append(document)
            spare -= 1
    return blocks


@lru_cache(maxsize=_DRAWN_ROWS)
def _drawn(invoice: InvoiceView) -> tuple[Block, Block | None]:
    """An invoice's row and its "View invoice" actions block, drawn once per distinct invoice view
    (every field that shows is in the key: amounts, due date, overdue, payment under way, document),
    so the Home and the invoice list redraw only what changed. Blocks are never changed once built."""
    document = view_invoice_button(invoice.document_url)
    return invoice_row(invoice), (actions(document) if document is not None else None)


def invoices_screen(account: AccountView, invoices: list[InvoiceView]) -> Screen:
    """The open invoices to choose from, then the full-balance button."""
    if not invoices:
        return Screen(
            f"{account.name} has no open invoices.",
            [section(f"*{escape_line(account.name)}* has no open invoices. Nothing to pay. :tada:")],
            title="Invoices",
        )
    blocks: list[Block] = [section(f"*Open invoices for {escape_line(account.name)}*")]
    blocks.extend(invoice_rows(invoices[:_MAX_ROWS], budget=_MAX_ROWS + 5))  # 50 blocks at most in a message
    if len(invoices) > _MAX_ROWS:
        blocks.append(context(more_invoices(len(invoices) - _MAX_ROWS)))
    balance = pay_balance_button(account)
    if balance is not None:
        blocks.append(actions(balance, block_id="pay_balance"))
    text = f"{account.name}: {len(invoices)} open invoice(s), balance {account.balance.format()}"
    return Screen(text, blocks, title="Invoices")


def more_invoices(count: int) -> str:
    """The line under a cut list of invoices: how many are not shown and how to pay one of them."""
    return (
        f"…and {count} more. Pay any of them with `/billing pay &lt;invoice number&gt;`, "
        "or pay the full balance to settle them all."
    )


def pay_balance_button(account: AccountView) -> Block | None:
    """ "Pay full balance (amount)", or ``None`` when there is nothing to pay."""
    if account.balance.amount_minor <= 0:
        return None
    return button(
        f"Pay full balance ({account.balance.format()})",
        PAY_OPEN_ACTION,
        PayTarget.of(account.external_id, None).encode(),
        style="primary",
    )
