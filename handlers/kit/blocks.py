"""Small Block Kit helpers shared by the screens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from billing_core.money import Money
from handlers.kit.ids import LINK_ACTION_PREFIX, SUPPORT_OPEN_ACTION
from handlers.kit.payloads import SupportTarget

Block = dict[str, Any]


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt_date(day: date | datetime) -> str:
    """``1 Dec 2026`` (English month names, whatever the server's locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def fmt_money(amount: Money) -> str:
    return amount.format()


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, 3000)}}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, 150)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, 2000)}]}


def divider() -> Block:
    return {"type": "divider"}


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def button(
    text: str,
    action_id: str,
    value: str = "",
    *,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    element: Block = {"type": "button", "text": plain(text), "action_id": action_id}
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def link_button(text: str, url: str, name: str, *, style: str | None = None) -> Block:
    """A button that opens ``url``; Slack still posts an action, acked by a no-op listener."""
    element = button(text, f"{LINK_ACTION_PREFIX}{name}", style=style)
    element["url"] = url
    return element


def confirm_dialog(title: str, text: str, confirm: str, *, danger: bool = False) -> Block:
    dialog: Block = {
        "title": plain(title, 100),
        "text": {"type": "mrkdwn", "text": _clip(text, 300)},
        "confirm": plain(confirm, 30),
        "deny": plain("Cancel", 30),
    }
    if danger:
        dialog["style"] = "danger"
    return dialog


def support_button(account: str, *, invoice: str = "", topic: str = "", text: str = "Contact billing support") -> Block:
    return button(text, SUPPORT_OPEN_ACTION, SupportTarget(account=account, invoice=invoice, topic=topic).encode())


def modal(title: str, blocks: list[Block], *, callback_id: str = "", submit: str | None = None,
          close: str = "Close", private_metadata: str = "") -> Block:
    view: Block = {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain(close, 24),
        "blocks": blocks[:100] or [section(" ")],
    }
    if callback_id:
        view["callback_id"] = callback_id
    if submit:
        view["submit"] = plain(submit, 24)
    if private_metadata:
        view["private_metadata"] = private_metadata[:3000]
    return view


class Screen:
    """What one reply shows: fallback ``text`` (notifications, screen readers) plus blocks."""

    __slots__ = ("blocks", "text", "title")

    def __init__(self, text: str, blocks: list[Block], title: str = "Billing") -> None:
        self.text = text
        self.blocks = blocks
        self.title = title

    def with_notice(self, notice: str) -> Screen:
        """The same screen with ``notice`` on top (e.g. "this is out of date")."""
        if not notice:
            return self
        return Screen(f"{notice} {self.text}", [section(f":information_source: {escape(notice)}"), *self.blocks],
                      self.title)


def message_screen(text: str, title: str = "Billing") -> Screen:
    return Screen(text, [section(escape(text))], title)
