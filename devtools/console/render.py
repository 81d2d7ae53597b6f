"""Block Kit as readable terminal text.

Pure functions: blocks in, lines out. Everything a user can click (a button, an option of a
select, overflow or radio group) is handed to ``on_choice``, which returns the number the user
types to choose it. Inputs of a modal are only described here; the console prompts for them when
the modal is submitted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Block = dict[str, Any]

#: Element types whose options are chosen one at a time (each option gets a number).
OPTION_ELEMENTS = frozenset({"static_select", "overflow", "radio_buttons"})

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
#: Slack's shortcodes as terminal characters; one not listed stays as typed (a workspace's own emoji).
EMOJI = {
    "white_check_mark": "✔",
    "heavy_check_mark": "✔",
    "x": "✘",
    "warning": "⚠",
    "hourglass_flowing_sand": "⏳",
    "hourglass": "⌛",
    "lock": "🔒",
    "unlock": "🔓",
    "key": "🔑",
    "information_source": "ℹ",
    "credit_card": "💳",
    "bell": "🔔",
    "wave": "👋",
    "tada": "🎉",
    "moneybag": "💰",
    "money_with_wings": "💸",
    "dollar": "💵",
    "receipt": "🧾",
    "email": "📧",
    "envelope": "✉️",
    "calendar": "📅",
    "date": "📅",
    "spiral_calendar_pad": "🗓️",
    "alarm_clock": "⏰",
    "clock1": "🕐",
    "mag": "🔍",
    "memo": "📝",
    "page_facing_up": "📄",
    "paperclip": "📎",
    "link": "🔗",
    "rotating_light": "🚨",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "arrows_counterclockwise": "🔄",
    "repeat": "🔁",
    "thumbsup": "👍",
    "+1": "👍",
    "thumbsdown": "👎",
    "-1": "👎",
    "pray": "🙏",
    "raised_hands": "🙌",
    "eyes": "👀",
    "bulb": "💡",
    "speech_balloon": "💬",
    "busts_in_silhouette": "👥",
    "bust_in_silhouette": "👤",
    "office": "🏢",
    "house": "🏠",
    "robot_face": "🤖",
    "zzz": "💤",
    "sparkles": "✨",
    "star": "⭐",
    "heart": "❤️",
    "smile": "😄",
    "slightly_smiling_face": "🙂",
    "question": "❓",
    "grey_question": "❔",
    "exclamation": "❗",
    "arrow_right": "➡️",
    "point_right": "👉",
}


@dataclass(frozen=True)
class Clickable:
    """Something the user can choose: a button, or one option of a select-like element."""

    label: str
    element: Block
    block_id: str
    option: Block | None = None


OnChoice = Callable[[Clickable], int]


@dataclass
class Rendered:
    """The text of one surface."""

    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def mrkdwn(text: str) -> str:
    """Slack mrkdwn as plain text: links, mentions and entities made readable, common emoji drawn."""

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            return label or target
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return f"{label} <{target}>" if label and label != target else target

    text = _BOLD.sub(r"\1", _LINK.sub(link, text))
    text = _STRIKE.sub(lambda match: strike(match.group(1)), text)
    text = _ITALIC.sub(r"\1", text)
    return html.unescape(emoji(text))


def emoji(text: str) -> str:
    """``:tada:`` and the other shortcodes Slack draws, as the characters a terminal shows."""
    return _SHORTCODE.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), text)


def strike(text: str) -> str:
    """``text`` struck through (a combining long stroke after each character), as Slack shows ``~text~``."""
    return "".join(char + "\u0336" for char in text)


def text_of(obj: object) -> str:
    """The text of a text object (``plain_text`` or ``mrkdwn``), or ``""``."""
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, dict):
        return ""
    raw = str(obj.get("text") or "")
    if obj.get("type") == "mrkdwn":
        return mrkdwn(raw)
    return html.unescape(raw if obj.get("emoji") is False else emoji(raw))


def _indent(text: str, prefix: str = "  ") -> list[str]:
    return [prefix + line if line else prefix.rstrip() for line in text.splitlines() or [""]]


def render_blocks(blocks: list[Block], on_choice: OnChoice) -> list[str]:
    """Lines for ``blocks``; clickable elements are numbered through ``on_choice``."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, dict):
            lines.extend(render_block(block, on_choice))
    return lines


def render_block(block: Block, on_choice: OnChoice) -> list[str]:
    kind = block.get("type")
    block_id = str(block.get("block_id") or "")
    if kind == "header":
        title = text_of(block.get("text"))
        return [title.upper(), "=" * min(len(title), 60)]
    if kind == "divider":
        return ["─" * 40]
    if kind == "section":
        lines = _indent(text_of(block.get("text"))) if block.get("text") else []
        fields = [text_of(f) for f in block.get("fields") or []]
        for left, right in zip(fields[::2], [*fields[1::2], ""], strict=False):
            lines.extend(_indent(_two_columns(left, right)))
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            lines.extend(render_element(accessory, block_id, on_choice, "    "))
        return lines
    if kind == "context":
        parts = [
            text_of(e) if e.get("type") != "image" else f"[{e.get('alt_text', 'image')}]"
            for e in block.get("elements") or []
            if isinstance(e, dict)
        ]
        return _indent("  ".join(parts), "  · ")
    if kind == "actions":
        lines = []
        for element in block.get("elements") or []:
            if isinstance(element, dict):
                lines.extend(render_element(element, block_id, on_choice, "  "))
        return lines
    if kind == "input":
        return render_input(block)
    if kind == "image":
        return [f"  [image: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return _indent(_rich_text(block))
    return [f"  [{kind} block]"]


def _two_columns(left: str, right: str) -> str:
    left_lines, right_lines = left.splitlines() or [""], right.splitlines() or [""]
    width = max(len(line) for line in left_lines) + 4
    rows = max(len(left_lines), len(right_lines))
    padded_left = left_lines + [""] * (rows - len(left_lines))
    padded_right = right_lines + [""] * (rows - len(right_lines))
    return "\n".join(f"{a.ljust(width)}{b}".rstrip() for a, b in zip(padded_left, padded_right, strict=True))


def _rich_text(block: Block) -> str:
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("text", "link"):
                out.append(str(node.get("text") or node.get("url") or ""))
            for child in node.get("elements") or []:
                walk(child)

    walk(block)
    return "".join(out)


def render_element(element: Block, block_id: str, on_choice: OnChoice, prefix: str) -> list[str]:
    """A button, or a select-like element with one numbered line per option."""
    kind = element.get("type")
    if kind == "button":
        label = text_of(element.get("text"))
        number = on_choice(Clickable(label, element, block_id))
        style = {"primary": " (primary)", "danger": " (danger)"}.get(str(element.get("style")), "")
        url = f" -> {element['url']}" if element.get("url") else ""
        return [f"{prefix}[{number}] {label}{style}{url}"]
    if kind in OPTION_ELEMENTS:
        title = text_of(element.get("placeholder")) or {"overflow": "More"}.get(str(kind), "Choose")
        lines = [f"{prefix}{title}:"]
        initial = (element.get("initial_option") or {}).get("value")
        for option in options_of(element):
            label = text_of(option.get("text"))
            number = on_choice(Clickable(label, element, block_id, option))
            mark = " (selected)" if option.get("value") == initial else ""
            lines.append(f"{prefix}  [{number}] {label}{mark}")
        return lines
    if kind == "datepicker":
        return [f"{prefix}(date picker: {element.get('initial_date', 'no date')})"]
    return [f"{prefix}({kind})"]


def options_of(element: Block) -> list[Block]:
    """The options of a select, flattening option groups."""
    found: list[Block] = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            found.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return found


def render_input(block: Block) -> list[str]:
    """An input block: its label, kind and current value; filled in when the modal is submitted."""
    label = text_of(block.get("label"))
    element = block.get("element") if isinstance(block.get("element"), dict) else {}
    assert isinstance(element, dict)
    optional = " (optional)" if block.get("optional") else ""
    kind = element.get("type")
    lines = [f"  ✎ {label}{optional}"]
    if kind in ("static_select", "radio_buttons", "checkboxes", "multi_static_select"):
        initial = element.get("initial_option") or {}
        for option in options_of(element):
            mark = "•" if option.get("value") == initial.get("value") else "○"
            lines.append(f"      {mark} {text_of(option.get('text'))}")
    elif kind == "plain_text_input":
        initial_value = element.get("initial_value") or ""
        placeholder = text_of(element.get("placeholder"))
        shown = f'"{initial_value}"' if initial_value else f"({placeholder or 'text'})"
        lines.append(f"      {shown}")
    hint = text_of(block.get("hint"))
    if hint:
        lines.append(f"      {hint}")
    return lines


def input_blocks(view: Block) -> list[Block]:
    """The input blocks of a view, in order."""
    return [b for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]


def render_view(view: Block, on_choice: OnChoice, *, submit: Callable[[str], int] | None = None) -> list[str]:
    """A modal or App Home: title, blocks, then its Submit and Close choices."""
    title = text_of(view.get("title")) or "App Home"
    lines = [*render_blocks(list(view.get("blocks") or []), on_choice)]
    if view.get("type") == "modal" and submit is not None:
        footer = []
        if view.get("submit"):
            footer.append(f"[{submit('submit')}] {text_of(view['submit'])}")
        footer.append(f"[{submit('close')}] {text_of(view.get('close')) or 'Close'}")
        lines.append("  " + "   ".join(footer))
    return [title, *lines]
