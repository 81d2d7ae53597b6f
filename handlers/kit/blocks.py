"""Small Block Kit helpers shared by the screens."""

from __future__ import annotations

import re
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


# Every C0 and C1 control character (tab, CR, LF, VT, FF, the file/group/record separators, NEL...)
# and Unicode's line and paragraph separators: anything a client may show as a line break.
_LINE_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# mrkdwn's bold, italics, strike and code marks.
_MARKS = re.compile("[*_~`]")
_ZWSP = "\u200b"


def one_line(text: str) -> str:
    """``text`` on one line: each run of line breaks, tabs and other control characters is a space."""
    return _LINE_BREAKS.sub(" ", text)


def escape_line(text: str) -> str:
    """Untrusted text for a single-line spot in mrkdwn (names, invoice numbers): flattened, escaped."""
    return escape(one_line(text))


def escape_field(text: str) -> str:
    """Untrusted text as the value of a labelled line (the staff post's ``*Account:* ...``).

    Flattened and escaped, and every ``*``, ``_``, ``~`` and backtick set between zero-width
    spaces, so it can neither start a line nor open or close bold, italics, strike or code:
    Slack has no escape for them, and a mark flanked by the same character on both sides is a
    mark inside a word (or between spaces) whichever way Slack classes that character.
    """
    return _MARKS.sub(lambda mark: f"{_ZWSP}{mark.group(0)}{_ZWSP}", escape_line(text))


def escape_code(text: str) -> str:
    """Untrusted text inside inline code (`` `id` ``): flattened, escaped, no backtick to close it."""
    return escape_line(text).replace("`", "ˋ")


def possessive(name: str) -> str:
    """English possessive of a name: "Acme Corp's", but "Acme Labs'" (a name ending in s). Not escaped."""
    name = name.rstrip()
    return f"{name}'" if name[-1:] in ("s", "S") else f"{name}'s"


def fallback_text(text: str) -> str:
    """A message's top-level ``text`` (notifications, screen readers): Slack renders mentions,
    links and mrkdwn in it too, so it is one line, escaped and within Slack's 40,000 characters."""
    return clip_mrkdwn(escape_line(text), 40_000)


def clip_mrkdwn(text: str, limit: int) -> str:
    """Escaped ``text`` cut to ``limit`` characters with "…", never through ``&amp;``/``&lt;``/``&gt;``
    nor through an emoji sequence (a family, a flag, a skin tone)."""
    if len(text) <= limit:
        return text
    cut = text[: _grapheme_end(text, limit - 1)]
    start = cut.rfind("&", max(0, len(cut) - 4))  # an entity is at most 5 characters long
    if start != -1 and ";" not in cut[start:]:
        cut = cut[:start]
    return cut + "…"


_ZWJ = "\u200d"


def _joins(char: str) -> bool:
    """A character that belongs to the one before it: a joiner, a variation selector, a skin tone,
    a keycap, a tag (subdivision flags) or a combining mark."""
    code = ord(char)
    return (
        char in "\u200d\ufe0e\ufe0f\u20e3"
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or 0x0300 <= code <= 0x036F
    )


def _grapheme_end(text: str, end: int) -> int:
    """``end`` moved back, if need be, so ``text[:end]`` does not stop inside an emoji sequence."""
    while 0 < end < len(text) and (_joins(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    return end


def plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(one_line(text), limit), "emoji": True}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: _grapheme_end(text, limit - 1)] + "…"


def section(text: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, 3000)}}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, 150)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(text, 2000)}]}


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
    accessibility_label: str | None = None,
) -> Block:
    """A button. ``accessibility_label`` (at most 75 characters, read by screen readers instead of
    the text; docs.slack.dev/reference/block-kit/block-elements/button-element) tells apart buttons
    that look the same ("Pay INV-1001, $1,250.00")."""
    element: Block = {"type": "button", "text": plain(text), "action_id": action_id}
    if accessibility_label:
        element["accessibility_label"] = _clip(one_line(accessibility_label), 75)
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def pay_label(number: str, amount: str) -> str:
    """What a screen reader says for one of many Pay buttons: "Pay INV-1001, $1,250.00"."""
    return f"Pay {number}, {amount}"


def link_button(text: str, url: str, name: str, *, style: str | None = None) -> Block:
    """A button that opens ``url``; Slack still posts an action, acked by a no-op listener."""
    element = button(text, f"{LINK_ACTION_PREFIX}{name}", style=style)
    element["url"] = url
    return element


def confirm_dialog(title: str, text: str, confirm: str, *, danger: bool = False) -> Block:
    dialog: Block = {
        "title": plain(title, 100),
        "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, 300)},
        "confirm": plain(confirm, 30),
        "deny": plain("Cancel", 30),
    }
    if danger:
        dialog["style"] = "danger"
    return dialog


def support_button(
    account: str, *, invoice: str = "", topic: str = "", text: str = "Contact billing support", message: str = ""
) -> Block:
    target = SupportTarget(account=account, invoice=invoice, topic=topic, message=message[:300] or None)
    return button(text, SUPPORT_OPEN_ACTION, target.encode())


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str = "",
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str = "",
) -> Block:
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
    """What one reply shows: fallback ``text`` (notifications, screen readers) plus blocks.

    Builders hand in the fallback as a person reads it (``plain_text``); ``text`` is what Slack
    gets: one line, escaped, so an account or invoice name in it is never a mention or a link.
    """

    __slots__ = ("blocks", "plain_text", "title")

    def __init__(self, text: str, blocks: list[Block], title: str = "Billing") -> None:
        self.plain_text = text
        self.blocks = blocks
        self.title = title

    @property
    def text(self) -> str:
        return fallback_text(self.plain_text)

    def with_notice(self, notice: str) -> Screen:
        """The same screen with ``notice`` on top (e.g. "this is out of date")."""
        if not notice:
            return self
        return Screen(
            f"{notice} {self.plain_text}",
            [section(f":information_source: {escape_line(notice)}"), *self.blocks],
            self.title,
        )


def message_screen(text: str, title: str = "Billing") -> Screen:
    return Screen(text, [section(escape_line(text))], title)
