"""The overview: active account, balance, next invoice due, and the main actions.

The caller's accounts with their balances, and a select to switch the active one.

What ``/billing`` understands."""

from __future__ import annotations

from billing_core.views import AccountView, CallerContext, InvoiceView
from handlers.accounts.ids import SHOW_ACCOUNTS_ACTION, SWITCH_ACCOUNT_ACTION
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    context,
    escape,
    escape_code,
    escape_line,
    fmt_date,
    header,
    plain,
    section,
    support_button,
)
from handlers.kit.ids import SHOW_HISTORY_ACTION, SHOW_INVOICES_ACTION, SHOW_METHODS_ACTION
from handlers.kit.payloads import AccountRef, HistoryPage, SwitchChoice


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


_MAX_ROWS = 40  # a message holds 50 blocks


MAX_OPTIONS = 100  # a select holds 100 options


def unlisted_accounts(ctx: CallerContext) -> str:
    """The line under a switch select that cannot hold every account, or ""."""
    hidden = len(ctx.accounts) - MAX_OPTIONS
    if hidden <= 0:
        return ""
    return f"{hidden} more accounts are not in the list: `/billing switch &lt;account id or name&gt;` reaches any."


def switch_select(ctx: CallerContext) -> Block:
    options = [
        {"text": plain(f"{a.name} ({a.external_id})"), "value": SwitchChoice(account=a.external_id).encode()}
        for a in ctx.accounts[:MAX_OPTIONS]
    ]
    element: Block = {
        "type": "static_select",
        "action_id": SWITCH_ACCOUNT_ACTION,
        "placeholder": plain("Switch account"),
        "options": options,
    }
    current = next((o for o in options if o["value"] == ctx.active.external_id), None)
    if current is not None:
        element["initial_option"] = current
    return element


def accounts_screen(ctx: CallerContext) -> Screen:
    blocks: list[Block] = [section("*Your billing accounts*")]
    for account in ctx.accounts[:_MAX_ROWS]:
        marker = " · *active*" if account.external_id == ctx.active.external_id else ""
        blocks.append(
            section(
                f"*{escape_line(account.name)}* (`{escape_code(account.external_id)}`) · balance "
                f"{account.balance.format()} · {account.open_invoice_count} open invoice(s){marker}"
            )
        )
    hidden = len(ctx.accounts) - _MAX_ROWS
    if hidden > 0:
        blocks.append(
            section(
                f"…and {hidden} more. Switch to any of them with "
                "`/billing switch &lt;account id or name&gt;`, then `/billing balance`."
            )
        )
    if len(ctx.accounts) > 1:
        blocks.append(actions(switch_select(ctx), block_id="switch_account"))
        blocks.append(context("Or type `/billing switch &lt;account id or name&gt;`."))
    return Screen(f"You are billing contact for {len(ctx.accounts)} account(s).", blocks, title="Accounts")


COMMANDS = (
    ("/billing", "overview of your active account"),
    ("/billing pay", "choose an open invoice to pay, or the full balance"),
    ("/billing pay <invoice number>", "pay one invoice"),
    ("/billing pay balance", "pay the whole open balance"),
    ("/billing balance", "what is owed"),
    ("/billing invoices", "open invoices"),
    ("/billing methods", "saved cards: add, make default, remove"),
    ("/billing autopay [on|off]", "charge open invoices to the default card on their due date"),
    ("/billing history", "past payments"),
    ("/billing accounts", "the accounts you are billing contact for"),
    ("/billing switch <id or name>", "change the active account"),
    ("/billing support [message]", "ask billing support for help"),
    ("/billing help", "this list"),
)


def help_screen(support_email: str) -> Screen:
    # ``<invoice number>`` unescaped is Slack's link syntax: it would show as "invoice number".
    lines = "\n".join(f"`{escape(command)}` {what}" for command, what in COMMANDS)
    blocks = [
        section("*Here's what I can do:*\n" + lines),
        context(
            "I only pay whole invoices or the full balance. For anything else, billing support can help: "
            + escape(support_email)
        ),
    ]
    return Screen("Billing assistant: " + ", ".join(c for c, _ in COMMANDS), blocks, title="Help")
