"""Every limit Slack puts on a Block Kit payload, checked: slack_sdk's models, then what they miss.

``slack_sdk.models`` validates many lengths (section text, button text, option counts) when a
block or view is parsed and dumped, but not the rules Slack enforces only on the server: unique
``action_id`` within a block, button and option ``value`` lengths, a confirm dialog's parts,
``private_metadata``, block counts per surface. Any of them broken, Slack answers
``invalid_blocks`` and the person sees nothing. ``problems`` lists each rule a payload breaks (the
limits are those of Slack's Block Kit reference, as summed up in the project's Slack brief §7).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block as SdkBlock
from slack_sdk.models.views import View

Json = dict[str, Any]

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100

_TEXT_LIMITS = {"section": 3000, "header": 150}


def message_problems(blocks: list[Json], text: str = "") -> list[str]:
    """What Slack refuses in a message (``chat.postMessage``, an ephemeral reply, a DM)."""
    found = [] if blocks else ["a message with blocks has at least one"]
    if len(blocks) > MESSAGE_BLOCKS:
        found.append(f"{len(blocks)} blocks in a message (at most {MESSAGE_BLOCKS})")
    if len(text) > 40_000:
        found.append(f"fallback text of {len(text)} characters (at most 40,000)")
    return found + _blocks_problems(blocks) + _unique_ids(blocks, "message")


def view_problems(view: Json) -> list[str]:
    """What Slack refuses in a modal or the Home tab (``views.open`` / ``views.publish``)."""
    found: list[str] = []
    blocks = view.get("blocks", [])
    if not 1 <= len(blocks) <= VIEW_BLOCKS:
        found.append(f"{len(blocks)} blocks in a {view.get('type')} view (1 to {VIEW_BLOCKS})")
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError) as error:
        found.append(f"slack_sdk refuses the view: {error}")
    for key in ("title", "submit", "close"):
        if key in view:
            found += _plain(view[key], 24, f"view {key}")
    if len(view.get("private_metadata", "")) > 3000:
        found.append(f"private_metadata of {len(view['private_metadata'])} characters (at most 3,000)")
    if len(view.get("callback_id", "")) > 255:
        found.append("callback_id over 255 characters")
    return found + _blocks_problems(blocks) + _unique_ids(blocks, str(view.get("type")))


def _blocks_problems(blocks: list[Json]) -> list[str]:
    found: list[str] = []
    for index, block in enumerate(blocks):
        where = f"block {index} ({block.get('type')})"
        try:
            parsed = SdkBlock.parse(block)
            if parsed is None:
                found.append(f"{where}: slack_sdk does not know it")
            else:
                parsed.validate_json()
        except (SlackObjectFormationError, TypeError, ValueError) as error:
            found.append(f"{where}: slack_sdk refuses it: {error}")
        found += [f"{where}: {problem}" for problem in _block_problems(block)]
    return found


def _block_problems(block: Json) -> Iterator[str]:
    kind = block.get("type")
    if len(block.get("block_id", "")) > 255:
        yield "block_id over 255 characters"
    if kind in _TEXT_LIMITS and "text" in block:
        yield from _text(block["text"], _TEXT_LIMITS[kind], f"{kind} text")
    if kind == "header":
        yield from _plain(block.get("text", {}), 150, "header")
    for field in block.get("fields", []):
        yield from _text(field, 2000, "field")
    if len(block.get("fields", [])) > 10:
        yield "more than 10 fields"
    if kind == "actions" and not 1 <= len(block.get("elements", [])) <= 25:
        yield f"{len(block.get('elements', []))} elements in an actions block (1 to 25)"
    if kind == "context":
        if not 1 <= len(block.get("elements", [])) <= 10:
            yield "a context block holds 1 to 10 elements"
        for element in block.get("elements", []):
            if element.get("type") in ("mrkdwn", "plain_text"):
                yield from _text(element, 2000, "context text")
    ids = [e["action_id"] for e in _elements(block) if "action_id" in e]
    for action_id, count in Counter(ids).items():
        if count > 1:
            yield f"action_id {action_id!r} {count} times in one block"
    for element in _elements(block):
        yield from _element_problems(element)


def _elements(block: Json) -> list[Json]:
    elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            elements.append(block[key])
    return elements


def _element_problems(element: Json) -> Iterator[str]:
    if len(element.get("action_id", "")) > 255:
        yield "action_id over 255 characters"
    kind = element.get("type")
    if kind == "button":
        yield from _plain(element.get("text", {}), 75, "button text")
        if len(element.get("value", "")) > 2000:
            yield f"button value of {len(element['value'])} characters (at most 2,000)"
        if len(element.get("url", "")) > 3000:
            yield "button url over 3,000 characters"
        if element.get("style") not in (None, "primary", "danger"):
            yield f"button style {element.get('style')!r}"
        if len(element.get("accessibility_label", "")) > 75:
            yield "button accessibility_label over 75 characters"
    options = list(element.get("options", []))
    if "initial_option" in element:
        options.append(element["initial_option"])
    if kind in ("static_select", "overflow", "radio_buttons", "checkboxes"):
        count = len(element.get("options", []))
        if not 1 <= count <= (5 if kind == "overflow" else 100):
            yield f"{count} options in a {kind}"
        if "placeholder" in element:
            yield from _plain(element["placeholder"], 150, "placeholder")
    for option in options:
        yield from _plain(option.get("text", {}), 75, "option text")
        if len(option.get("value", "")) > 150:
            yield f"option value of {len(option['value'])} characters (at most 150)"
    if "initial_option" in element and element["initial_option"] not in element.get("options", []):
        yield "initial_option is not one of the options"
    if "confirm" in element:
        yield from _confirm_problems(element["confirm"])


def _confirm_problems(dialog: Json) -> Iterator[str]:
    yield from _plain(dialog.get("title", {}), 100, "confirm title")
    yield from _text(dialog.get("text", {}), 300, "confirm text")
    for key in ("confirm", "deny"):
        yield from _plain(dialog.get(key, {}), 30, f"confirm {key}")
    if dialog.get("style") not in (None, "primary", "danger"):
        yield f"confirm style {dialog.get('style')!r}"


def _text(text: Json, limit: int, what: str) -> Iterator[str]:
    body = text.get("text", "")
    if not body:
        yield f"empty {what}"
    if len(body) > limit:
        yield f"{what} of {len(body)} characters (at most {limit:,})"
    if text.get("type") == "mrkdwn":
        yield from _mrkdwn_problems(body, what)


def _plain(text: Json, limit: int, what: str) -> Iterator[str]:
    if text.get("type") != "plain_text":
        yield f"{what} is not plain_text"
    yield from _text(text, limit, what)


_OUR_MARKUP = ("<@U", "<@W", "<#C", "<http://", "<https://", "<mailto:")


def _mrkdwn_problems(body: str, what: str) -> Iterator[str]:
    """A cut through an entity (``&am…``), or a ``<`` that is none of the mentions and links the
    builders write on purpose: Slack would read ``<invoice number>`` as a link and hide it."""
    for index, char in enumerate(body):
        if char == "&" and not any(body.startswith(e, index) for e in ("&amp;", "&lt;", "&gt;")):
            yield f"{what}: a bare or cut '&' at {index}: {body[max(0, index - 10) : index + 10]!r}"
            return
        if char == "<" and not any(body.startswith(markup, index) for markup in _OUR_MARKUP):
            yield f"{what}: Slack markup '<' at {index}: {body[max(0, index - 10) : index + 20]!r}"
            return


def _unique_ids(blocks: list[Json], surface: str) -> list[str]:
    """``block_id`` must be unique in a message or view. (An ``action_id`` need only be unique in
    its block: the Pay buttons of several invoice rows share one, told apart by their values.)"""
    block_ids = Counter(b["block_id"] for b in blocks if "block_id" in b)
    return [
        f"block_id {block_id!r} {count} times in one {surface}" for block_id, count in block_ids.items() if count > 1
    ]
