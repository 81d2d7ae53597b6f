"""The overview: active account, balance, next invoice due, and the main actions."""

from __future__ import annotations

from billing_core.views import AccountView, CallerContext, InvoiceView
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    context,
    escape_line,
    fmt_date,
    header,
    section,
    support_button,
)
from handlers.kit.ids import (
    SHOW_ACCOUNTS_ACTION,
    SHOW_HISTORY_ACTION,
    SHOW_INVOICES_ACTION,
    SHOW_METHODS_ACTION,
)
from handlers.kit.payloads import AccountRef, HistoryPage


def account_summary(account: AccountView, next_invoice: InvoiceView | None) -> list[Block]:
    lines = [f"*Balance:* {account.balance.format()}"]
    if account.open_invoice_count:
        lines.append(f"*Open invoices:* {account.open_invoice_count}")
    if account.overdue_count:
        lines.append(f":warning: *Overdue:* {account.overdue_count}")
    if next_invoice is not None:
        lines.append(
            f"*Next due:* {escape_line(next_invoice.number)}, {next_invoice.outstanding.format()} "
            f"on {fmt_date(next_invoice.due_on)}"
        )
    else:
        lines.append("Nothing is due. :tada:")
    return [section("\n".join(lines))]


def main_actions(ctx: CallerContext) -> Block:
    account = ctx.active.external_id
    elements = [
        button("Pay", SHOW_INVOICES_ACTION, AccountRef(account=account).encode(), style="primary"),
        button("Payment methods", SHOW_METHODS_ACTION, AccountRef(account=account).encode()),
        button("History", SHOW_HISTORY_ACTION, HistoryPage(account=account, page=0).encode()),
    ]
    if len(ctx.accounts) > 1:
        elements.append(button("Switch account", SHOW_ACCOUNTS_ACTION, AccountRef(account=account).encode()))
    elements.append(support_button(account))
    return actions(*elements, block_id="overview_actions")


def overview_screen(ctx: CallerContext, next_invoice: InvoiceView | None) -> Screen:
    account = ctx.active
    blocks = [
        header(account.name),
        *account_summary(account, next_invoice),
        main_actions(ctx),
    ]
    if len(ctx.accounts) > 1:
        blocks.append(context(f"You are billing contact for {len(ctx.accounts)} accounts."))
    text = f"{account.name}: balance {account.balance.format()}"
    return Screen(text, blocks, title="Billing")


def balance_screen(account: AccountView, next_invoice: InvoiceView | None) -> Screen:
    blocks = [
        section(f"*{escape_line(account.name)}*"),
        *account_summary(account, next_invoice),
        actions(button("Pay", SHOW_INVOICES_ACTION, AccountRef(account=account.external_id).encode(), style="primary")),
    ]
    return Screen(f"{account.name}: balance {account.balance.format()}", blocks, title="Balance")
