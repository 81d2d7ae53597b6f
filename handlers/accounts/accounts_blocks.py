"""The caller's accounts with their balances, and a select to switch the active one."""

from __future__ import annotations

from billing_core.views import CallerContext
from handlers.kit.blocks import Block, Screen, actions, context, escape_code, escape_line, plain, section
from handlers.kit.ids import SWITCH_ACCOUNT_ACTION
from handlers.kit.payloads import SwitchChoice

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
