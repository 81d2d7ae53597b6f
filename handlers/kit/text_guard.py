"""Card-number guard for every free-text input Slack sends us, before any listener sees it.

A slash command's text or a modal's text input that looks like a card number is answered with the
guidance to use the hosted Stripe page, in the acknowledgement itself: no listener runs, so the
text is never echoed, stored, e-mailed or logged. Text typed into an input that dispatches an
action, into a modal whose button is pressed, or into a select's search box is acknowledged with
nothing to do. An event's text (a message to the bot) reaches its listener with the number
replaced by ``REDACTED``, so a listener can say why. (Services refuse it too, e.g. escalations.)
A view an event carries (``app_home_opened`` echoes the whole Home) is walked once per distinct
content: the same view echoed again, found clean before, is not walked again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from slack_bolt import BoltResponse

from billing_core.card_guard import contains_card_number, redact_card_numbers
from handlers.kit.errors import CARD_NUMBER_GUIDANCE
from handlers.runtime.ttl_cache import TtlCache


def card_number_guard(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
    """Bolt global middleware: refuse card-like text in commands and view submissions."""
    if "command" in body and contains_card_number(str(body.get("text") or "")):
        return _json({"response_type": "ephemeral", "text": CARD_NUMBER_GUIDANCE})
    if body.get("type") == "view_submission":
        blocks = [block_id for block_id, text in _text_inputs(body.get("view")) if contains_card_number(text)]
        if blocks:
            return _json({"response_action": "errors", "errors": dict.fromkeys(blocks, CARD_NUMBER_GUIDANCE)})
    if body.get("type") == "block_actions" and _typed_card(body):
        return BoltResponse(status=200, body="")
    if body.get("type") == "block_suggestion" and contains_card_number(str(body.get("value") or "")):
        return _json({"options": []})
    if body.get("type") == "event_callback":
        _redact_event(body.get("event"))
    return next()


# Views Slack echoes in events (``app_home_opened`` carries the whole Home last published), by
# digest, once walked and found free of card-like text: the same view echoed again (every later
# open of an unchanged Home) is not walked again. A view that held one is redacted every time.
_CLEAN_VIEWS: TtlCache[bytes, bool] = TtlCache(3600.0, max_entries=10_000)


def _redact_event(event: object) -> None:
    """``_redact_texts`` over an event, its ``view`` (if any) walked only when not known clean."""
    view = event.get("view") if isinstance(event, dict) else None
    if not isinstance(event, dict) or not isinstance(view, dict):
        _redact_texts(event)
        return
    _redact_texts(event, skip="view")
    try:
        digest = hashlib.blake2b(json.dumps(view, separators=(",", ":")).encode(), digest_size=16).digest()
    except (TypeError, ValueError):  # not JSON-shaped (never from Slack): walked, not remembered
        _redact_texts(view)
        return
    if _CLEAN_VIEWS.get(digest) is not None:
        return
    at = _CLEAN_VIEWS.now()
    if not _redact_texts(view):
        _CLEAN_VIEWS.put(digest, True, at)


def _redact_texts(node: object, skip: str | None = None) -> bool:
    """Replace card-like numbers, in place, in every ``text`` string of an event (its message text,
    rich-text elements, an edited message's old and new text); ids and timestamps are left alone.
    ``skip`` leaves one key of ``node`` out. True when anything was replaced."""
    found = False
    if isinstance(node, list):
        for item in node:
            found = _redact_texts(item) or found
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == skip:
                continue
            if key == "text" and isinstance(value, str):
                if contains_card_number(value):
                    node[key] = redact_card_numbers(value)
                    found = True
            else:
                found = _redact_texts(value) or found
    return found


def _typed_card(body: dict[str, Any]) -> bool:
    """True when a block action carries card-like text typed by the person (not our button values)."""
    actions = body.get("actions")
    typed = (
        [a.get("value") for a in actions if isinstance(a, dict) and a.get("type") == "plain_text_input"]
        if isinstance(actions, list)
        else []
    )
    texts = [text for text in typed if isinstance(text, str)] + [text for _, text in _text_inputs(body.get("view"))]
    return any(contains_card_number(text) for text in texts)


def _text_inputs(view: object) -> Iterator[tuple[str, str]]:
    """``(block_id, text)`` for every text value in a submitted view's state."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        for element in actions.values():
            value = element.get("value") if isinstance(element, dict) else None
            if isinstance(value, str):
                yield str(block_id), value


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(payload), headers={"content-type": "application/json"})
