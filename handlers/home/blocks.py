"""The App Home tab: a dashboard of the active account with the same actions as the overview."""

from __future__ import annotations

from billing_core.autopay.switch import AutopayStatus
from billing_core.reminders.preferences import ContactPreference
from billing_core.views import CallerContext, InvoiceView
from handlers.accounts.blocks import account_summary, main_actions, switch_select, unlisted_accounts
from handlers.kit.autopay_row import autopay_row
from handlers.kit.blocks import Block, actions, button, context, divider, escape, escape_line, header, section
from handlers.kit.invoice_blocks import invoice_rows, more_invoices, pay_balance_button
from handlers.kit.payloads import AccountRef
from handlers.reminders.ids import REMINDERS_OFF_ACTION, REMINDERS_ON_ACTION

MAX_HOME_INVOICES = 30  # the rows the tab shows (and all that is read for it)


def home_view(
    ctx: CallerContext,
    invoices: list[InvoiceView],
    autopay: AutopayStatus | None = None,
    preferences: list[ContactPreference] | None = None,
) -> Block:
    """The tab; with ``autopay`` (when payments are configured) its line and toggle; with
    ``preferences`` the person's reminder settings and the switch that reverses them."""
    account = ctx.active
    next_invoice = invoices[0] if invoices else None
    blocks: list[Block] = [header(f"Billing · {account.name}"), *account_summary(account, next_invoice)]
    blocks.append(main_actions(ctx))
    if autopay is not None:
        blocks.extend(autopay_row(autopay))
    if preferences:
        blocks.extend(reminder_preferences(ctx, preferences))
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


def reminder_preferences(ctx: CallerContext, preferences: list[ContactPreference]) -> list[Block]:
    """The active account's reminder setting with its switch; other accounts with reminders off named."""
    active = next((p for p in preferences if p.account_external_id == ctx.active.external_id), None)
    blocks: list[Block] = []
    if active is not None:
        value = AccountRef(account=active.account_external_id).encode()
        if active.reminders_on:
            text = ":bell: *Reminders:* on. I DM you before and after invoices are due."
            switch = button("Stop reminders", REMINDERS_OFF_ACTION, value)
        else:
            why = " (you told us you are not this account's billing contact)" if active.not_me else ""
            text = f":no_bell: *Reminders:* off{why}. Receipts for payments you make still reach you."
            switch = button("Turn reminders on", REMINDERS_ON_ACTION, value, style="primary")
        blocks.append(section(text, accessory=switch))
    others = [p.account_name for p in preferences if not p.reminders_on and p is not active]
    if others:
        blocks.append(context("Reminders are also off for: " + ", ".join(escape_line(name) for name in others)))
    return blocks


def home_refusal_view(message: str) -> Block:
    return {"type": "home", "blocks": [header("Billing"), section(escape(message))]}
