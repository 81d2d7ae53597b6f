"""Modal inputs: their state values as Slack sends them, and filling them in from typed answers."""

from __future__ import annotations

from typing import Any

from devtools.console.render import options_of, text_of

TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
SINGLE_CHOICE = frozenset({"static_select", "radio_buttons"})
MULTI_CHOICE = frozenset({"checkboxes", "multi_static_select"})


def initial_value(element: dict[str, Any]) -> dict[str, Any]:
    """The state value of ``element`` before anyone touches it."""
    kind = str(element.get("type"))
    if kind in TEXT_INPUTS:
        return {"type": kind, "value": element.get("initial_value")}
    if kind in SINGLE_CHOICE:
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind in MULTI_CHOICE:
        return {"type": kind, "selected_options": list(element.get("initial_options") or [])}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date")}
    if kind == "users_select":
        return {"type": kind, "selected_user": element.get("initial_user")}
    return {"type": kind}


def question(block: dict[str, Any]) -> tuple[str, list[str]]:
    """What to ask for an input block: the prompt, and the numbered options if it has any."""
    element = block.get("element") if isinstance(block.get("element"), dict) else {}
    assert isinstance(element, dict)
    label = text_of(block.get("label")) or "Value"
    kind = str(element.get("type"))
    current = initial_value(element)
    if kind in SINGLE_CHOICE | MULTI_CHOICE:
        options = [text_of(o.get("text")) for o in options_of(element)]
        chosen = current.get("selected_option") or {}
        default = next(
            (str(i) for i, o in enumerate(options_of(element), 1) if o.get("value") == chosen.get("value")), ""
        )
        many = " (numbers separated by commas)" if kind in MULTI_CHOICE else ""
        suffix = f" [{default}]" if default else ""
        return f"{label}{many}{suffix}: ", [f"[{i}] {text}" for i, text in enumerate(options, 1)]
    if kind == "datepicker":
        return f"{label} (YYYY-MM-DD) [{current.get('selected_date') or ''}]: ", []
    default_text = current.get("value") or ""
    return f"{label}{f' [{default_text}]' if default_text else ''}: ", []


def answer(element: dict[str, Any], typed: str) -> dict[str, Any] | str:
    """The state value for what was typed, or a message saying why it is not a valid answer.

    An empty answer keeps the input's initial value.
    """
    kind = str(element.get("type"))
    value = initial_value(element)
    typed = typed.strip()
    if not typed:
        return value
    if kind in SINGLE_CHOICE | MULTI_CHOICE:
        options = options_of(element)
        picked: list[dict[str, Any]] = []
        for part in typed.replace(" ", "").split(","):
            if not (part.isascii() and part.isdecimal()) or not 1 <= int(part) <= len(options):
                return f"choose a number from 1 to {len(options)}"
            picked.append(options[int(part) - 1])
        if kind in SINGLE_CHOICE:
            if len(picked) != 1:
                return "choose one number"
            return {"type": kind, "selected_option": picked[0]}
        return {"type": kind, "selected_options": picked}
    if kind == "datepicker":
        return {"type": kind, "selected_date": typed}
    if kind == "users_select":
        return {"type": kind, "selected_user": typed}
    return {"type": kind, "value": typed}
