"""The App Home tab: a dashboard of the active account with the same actions as the overview."""

from __future__ import annotations

from billing_core.autopay.switch import AutopayStatus
from billing_core.views import CallerContext, InvoiceView
from handlers.accounts.accounts_blocks import switch_select, unlisted_accounts
from handlers.accounts.invoices_blocks import invoice_rows, more_invoices, pay_balance_button
from handlers.accounts.overview_blocks import account_summary, main_actions
from handlers.autopay.autopay_blocks import autopay_row
from handlers.kit.blocks import Block, actions, context, divider, escape, header, section

MAX_HOME_INVOICES = 30  # the rows the tab shows (and all that is read for it)


def home_view(ctx: CallerContext, invoices: list[InvoiceView], autopay: AutopayStatus | None = None) -> Block:
    """The tab; with ``autopay`` (when payments are configured) its line and toggle."""
    account = ctx.active
    next_invoice = invoices[0] if invoices else None
    blocks: list[Block] = [header(f"Billing · {account.name}"), *account_summary(account, next_invoice)]
    blocks.append(main_actions(ctx))
    if autopay is not None:
        blocks.extend(autopay_row(autopay))
    if len(ctx.accounts) > 1:
        blocks.append(actions(switch_select(ctx), block_id="home_switch"))
        if unlisted_accounts(ctx):
            blocks.append(context(unlisted_accounts(ctx)))
    blocks.append(divider())
    if invoices:
        blocks.append(section("*Open invoices*"))
        blocks.extend(invoice_rows(invoices[:MAX_HOME_INVOICES], budget=2 * MAX_HOME_INVOICES))
        hidden = max(account.open_invoice_count, len(invoices)) - min(len(invoices), MAX_HOME_INVOICES)
        if hidden > 0:
            blocks.append(context(more_invoices(hidden)))
        balance = pay_balance_button(account)
        if balance is not None:
            blocks.append(actions(balance, block_id="home_pay_balance"))
    else:
        blocks.append(section("No open invoices. :tada:"))
    blocks.append(context("Type `/billing help` anywhere to see everything I can do."))
    return {"type": "home", "blocks": blocks[:100]}


def home_refusal_view(message: str) -> Block:
    return {"type": "home", "blocks": [header("Billing"), section(escape(message))]}
