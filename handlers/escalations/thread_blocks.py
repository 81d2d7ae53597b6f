"""Block Kit for the support threads: the first message of the requester's DM thread (the request,
its state and the requester's buttons) and each message relayed from one side to the other. Pure.

Whatever either side typed is data on the other side: escaped (no mentions, channel pings or link
markup of the writer's workspace), ``verbatim`` so Slack adds nothing. Files and links are passed
as links only: each on its own line as ``<url|name>``, the url already checked by the domain
(http(s), none of ``<``, ``>``, ``|``), the name escaped and stripped of ``|``.
"""

from __future__ import annotations

from collections.abc import Sequence

from billing_core.escalations.threads import Link, ThreadMessage
from billing_core.escalations.views import EscalationView
from handlers.escalations.blocks import user_text
from handlers.escalations.ids import SUPPORT_REQUESTER_STATE_ACTION
from handlers.escalations.payloads import State, StateChange
from handlers.kit.blocks import (
    Block,
    actions,
    button,
    clip_mrkdwn,
    context,
    escape,
    escape_field,
    escape_line,
    fallback_text,
    fmt_date,
    header,
)

SECTION_LIMIT = 3000


def requester_thread_root(view: EscalationView) -> tuple[str, list[Block]]:
    """The DM thread's first message: the request, its state, and "Mark resolved" or "Reopen"."""
    about = f"*{escape_field(view.topic_label)}* · {escape_field(view.account_name)}"
    if view.invoice_number:
        about += f" · {escape_field(view.invoice_number)}"
    if view.state == "resolved":
        choice = _button("Reopen", view.reference, "open")
        hint = "Resolved. Reopen it if something is still open."
    else:
        choice = _button("Mark resolved", view.reference, "resolved", style="primary")
        hint = "Billing support's replies appear in this thread; reply here to answer them."
    blocks: list[Block] = [
        header(f"Billing support · {view.reference}"),
        _mrkdwn(clip_mrkdwn(about, SECTION_LIMIT)),
        _mrkdwn(user_text(view.message)),
        context(f"State: *{escape_line(view.state_label)}* · opened {fmt_date(view.created_at)} · {hint}"),
        actions(choice, block_id=f"requester_state_{view.reference}"),
    ]
    text = f"Your request {view.reference} ({view.topic_label}): {view.state_label}"
    return fallback_text(text), blocks


def relayed_to_requester(view: EscalationView, message: ThreadMessage) -> tuple[str, list[Block]]:
    """A staff answer in the requester's DM thread: who answered (as the vendor configured), the
    reference, the text and the links."""
    who = escape_field(message.author_name)
    blocks: list[Block] = [context(f"*{who}* · billing support · {view.reference}")]
    if message.text:
        blocks.append(_mrkdwn(clip_mrkdwn(escape(message.text), SECTION_LIMIT)))
    blocks += _links(message.links)
    return fallback_text(f"{message.author_name} (billing support, {view.reference}): {message.text}"), blocks


def relayed_to_staff(view: EscalationView, message: ThreadMessage) -> tuple[str, list[Block]]:
    """The requester's answer in the staff thread, attributed: name and e-mail, as typed (fenced)."""
    who = f"*{escape_field(message.author_name)}* ({escape_line(view.requester_email)})"
    blocks: list[Block] = [context(f"{who} · the requester · replied in Slack")]
    if message.text:
        blocks.append(_mrkdwn(user_text(message.text, SECTION_LIMIT)))
    blocks += _links(message.links)
    return fallback_text(f"{message.author_name} (requester, {view.reference}) replied"), blocks


def state_notice(view: EscalationView, by: str) -> str:
    """One line in the thread when the state changes: ``Billing team set ESC-000123 to Resolved.``"""
    return f"{one_name(by)} set {view.reference} to {view.state_label}."


def one_name(text: str) -> str:
    return escape_line(text)[:80]


def _links(links: Sequence[Link]) -> list[Block]:
    """The files and links as one section, one per line; a link that does not fit is left out
    whole (never cut through), and the count of those left out is said."""
    lines: list[str] = []
    used = len("*Files and links*") + 1
    left_out = 0
    for link in links:
        name = escape_line(link.name).replace("|", "/")[:200] or "link"
        line = f"• <{link.url}|{name}>"
        if used + len(line) + 1 > SECTION_LIMIT - 40:
            left_out += 1
            continue
        lines.append(line)
        used += len(line) + 1
    if not lines and not left_out:
        return []
    if left_out:
        lines.append(f"…and {left_out} more (in the e-mail to billing support)")
    return [_mrkdwn("*Files and links*\n" + "\n".join(lines))]


def _mrkdwn(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _button(text: str, reference: str, state: State, *, style: str | None = None) -> Block:
    return button(
        text, SUPPORT_REQUESTER_STATE_ACTION, StateChange(reference=reference, state=state).encode(), style=style
    )
