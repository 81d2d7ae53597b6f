"""The App Home tab: a dashboard of the active account with the same actions as the overview."""

from __future__ import annotations

from billing_core.views import CallerContext, InvoiceView
from handlers.accounts.accounts_blocks import switch_select
from handlers.accounts.invoices_blocks import invoice_rows
from handlers.accounts.overview_blocks import account_summary, main_actions
from handlers.kit.blocks import Block, actions, button, context, divider, escape, header, section
from handlers.kit.ids import PAY_OPEN_ACTION
from handlers.payments.pay_blocks import pay_target

MAX_HOME_INVOICES = 30  # the rows the tab shows (and all that is read for it)


def home_view(ctx: CallerContext, invoices: list[InvoiceView]) -> Block:
    account = ctx.active
    next_invoice = invoices[0] if invoices else None
    blocks: list[Block] = [header(f"Billing · {account.name}"), *account_summary(account, next_invoice)]
    blocks.append(main_actions(ctx))
    if len(ctx.accounts) > 1:
        blocks.append(actions(switch_select(ctx), block_id="home_switch"))
    blocks.append(divider())
    if invoices:
        blocks.append(section("*Open invoices*"))
        blocks.extend(invoice_rows(invoices[:MAX_HOME_INVOICES], budget=2 * MAX_HOME_INVOICES))
        blocks.append(
            actions(
                button(
                    f"Pay full balance ({account.balance.format()})",
                    PAY_OPEN_ACTION,
                    pay_target(account.external_id, None),
                    style="primary",
                ),
                block_id="home_pay_balance",
            )
        )
    else:
        blocks.append(section("No open invoices. :tada:"))
    blocks.append(context("Type `/billing help` anywhere to see everything I can do."))
    return {"type": "home", "blocks": blocks[:100]}


def home_refusal_view(message: str) -> Block:
    return {"type": "home", "blocks": [header("Billing"), section(escape(message))]}
