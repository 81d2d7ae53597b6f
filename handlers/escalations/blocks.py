"""Block Kit for billing support: the request modal, the requester's list and the staff post. Pure.

Whatever a requester typed is shown as data: ``&``, ``<`` and ``>`` escaped (no mentions, links or
channel pings), inside a code block (no bold or italics), with ``verbatim`` so Slack adds no links.
The staff post's labelled facts (requester, account, invoice) come from Slack profiles and the
import file: each value is one line with its mrkdwn marks inert (``escape_field``), so a name such
as ``"Ann\n*Account:* Initech"`` cannot add a line that looks like one of ours, and each is clipped
so the facts fit in one section. Its fallback ``text`` (with the topic) is one escaped line too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from billing_core.escalations.views import MAX_MESSAGE_LENGTH, USER_TOPICS, EscalationView
from billing_core.identity.principal import parse_principal
from billing_core.views import AccountView, InvoiceView
from handlers.escalations.ids import (
    SUPPORT_FILE_CANCEL_ACTION,
    SUPPORT_FILE_SEND_ACTION,
    SUPPORT_MODAL_CALLBACK,
    SUPPORT_RESOLVE_ACTION,
    SUPPORT_STATE_ACTION,
)
from handlers.escalations.payloads import (
    INVOICE_BLOCK,
    INVOICE_INPUT,
    MESSAGE_BLOCK,
    MESSAGE_INPUT,
    NO_INVOICE,
    TOPIC_BLOCK,
    TOPIC_INPUT,
    EscalationRef,
    FileOffer,
    State,
    StateChange,
)
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    clip_mrkdwn,
    confirm_dialog,
    context,
    escape,
    escape_code,
    escape_field,
    escape_line,
    fallback_text,
    fmt_date,
    fmt_money,
    header,
    message_screen,
    modal,
    plain,
    section,
    support_button,
)
from handlers.kit.payloads import AccountRef

_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")
LIMIT_TEXT = f"{MAX_MESSAGE_LENGTH:,}"
_LISTED_INVOICES = 99  # a select holds 100 options, one of them "No particular invoice"
_MAX_REQUESTS = 40  # the open requests listed: a message holds 50 blocks
# Each fact's value in the staff post, escaped: five such values and their labels stay within a
# section's 3,000 characters.
_FACT_LIMIT = 560

# Topic keys other screens put in the support button's value, mapped to ours.
TOPIC_ALIASES = {
    "partial_payment": "payment_plan",
    "payment_plan": "payment_plan",
    "declined": "invoice_question",
    "payment_declined": "invoice_question",  # the declined-payment outcome's button (handlers/payments/blocks.py)
}

_DELIVERY = {
    "queued": "queued, on its way to billing support",
    "sending": "being sent to billing support",
    "sent": "with billing support",
    "failed": "with billing support (delivery delayed)",
}


def topic_key(raw: object) -> str | None:
    """Our topic key for a value from a button or the modal; None when unknown."""
    if not isinstance(raw, str):
        return None
    key = TOPIC_ALIASES.get(raw, raw)
    return key if key in USER_TOPICS else None


def user_text(text: str, limit: int = 3000) -> str:
    """A requester's text, safe inside mrkdwn: escaped and fenced so nothing in it is markup."""
    body = escape(text).replace("```", "ˋˋˋ")
    return f"```{clip_mrkdwn(body, limit - 6)}```"  # cut before an entity rather than through one


def _option(text: str, value: str) -> Block:
    return {"text": plain(text), "value": value}


def support_modal(
    account: AccountView,
    invoices: Sequence[InvoiceView],
    *,
    invoice: str | None = None,
    topic: str | None = None,
    message: str = "",
) -> Block:
    """The "Contact billing support" modal for ``account``; ``invoice`` and ``topic`` preselected."""
    topic_options = [_option(label, key) for key, label in USER_TOPICS.items()]
    topic_select: Block = {
        "type": "static_select",
        "action_id": TOPIC_INPUT,
        "placeholder": plain("Choose a topic"),
        "options": topic_options,
    }
    chosen = topic_key(topic)
    if chosen is not None:
        topic_select["initial_option"] = next(o for o in topic_options if o["value"] == chosen)
    invoice_options = [_option("No particular invoice", NO_INVOICE)] + [
        _option(f"{i.number} · {fmt_money(i.outstanding)} · due {fmt_date(i.due_on)}", i.number[:150])
        for i in invoices[:_LISTED_INVOICES]
    ]
    initial_invoice = next((o for o in invoice_options if invoice and o["value"] == invoice), invoice_options[0])
    message_input: Block = {
        "type": "plain_text_input",
        "action_id": MESSAGE_INPUT,
        "multiline": True,
        "max_length": MAX_MESSAGE_LENGTH,
        "placeholder": plain("What can billing support help with?"),
    }
    if message:
        message_input["initial_value"] = message[:MAX_MESSAGE_LENGTH]
    related: Block = {
        "type": "input",
        "block_id": INVOICE_BLOCK,
        "label": plain("Related invoice"),
        "optional": True,
        "element": {
            "type": "static_select",
            "action_id": INVOICE_INPUT,
            "options": invoice_options,
            "initial_option": initial_invoice,
        },
    }
    if len(invoices) > _LISTED_INVOICES:
        unlisted = len(invoices) - _LISTED_INVOICES
        related["hint"] = plain(f"{unlisted} more open invoices are not listed: name yours in the message.", 150)
    blocks: list[Block] = [
        section(f"Your request goes to billing support for *{escape_line(account.name)}*. They reply by e-mail."),
        {"type": "input", "block_id": TOPIC_BLOCK, "label": plain("Topic"), "element": topic_select},
        related,
        {
            "type": "input",
            "block_id": MESSAGE_BLOCK,
            "label": plain(f"Message (up to {LIMIT_TEXT} characters)"),
            "hint": plain(f"Up to {LIMIT_TEXT} characters. Never include card numbers.", 150),
            "element": message_input,
        },
    ]
    return modal(
        "Billing support",
        blocks,
        callback_id=SUPPORT_MODAL_CALLBACK,
        submit="Send",
        close="Cancel",
        private_metadata=AccountRef(account=account.external_id).encode(),
    )


def queued_screen(view: EscalationView) -> Screen:
    """What the requester reads once their request is stored."""
    text = (
        f"Thanks! Your request {view.reference} ({view.topic_label}, {view.account_name}) is queued for "
        f"billing support. They will reply by e-mail to {view.requester_email}."
    )
    return Screen(text, [section(f":white_check_mark: {escape_line(text)}")], "Billing support")


def open_escalations_screen(account: AccountView, escalations: Sequence[EscalationView]) -> Screen:
    """``/billing support``: the caller's open requests with their status, and a button for a new one."""
    if not escalations:
        lines = ["You have no open requests with billing support."]
    else:
        lines = [
            f"*{e.reference}* · {escape_line(e.topic_label)} · {escape_line(e.account_name)}"
            + (f" · {escape_line(e.invoice_number)}" if e.invoice_number else "")
            + f"\nOpened {fmt_date(e.created_at)} · {_DELIVERY.get(e.delivery_status, e.delivery_status)}"
            for e in escalations
        ]
    blocks: list[Block] = [header("Billing support")]
    blocks += [section(line) for line in lines[:_MAX_REQUESTS]]
    if len(lines) > _MAX_REQUESTS:
        blocks.append(
            section(
                f"…and {len(lines) - _MAX_REQUESTS} more open requests. Billing support has them "
                "all and replies to each by e-mail."
            )
        )
    blocks.append(actions(support_button(account.external_id, text="New request to billing support")))
    blocks.append(context("Tip: `/billing support &lt;message&gt;` sends a request straight away."))
    text = f"You have {len(escalations)} open request(s) with billing support."
    return Screen(text, blocks, "Billing support")


def staff_post(view: EscalationView, requester_slack: str | None) -> tuple[str, list[Block]]:
    """The staff channel message: who, which account and invoice, the message, the request's state
    and its buttons ("Mark resolved", "Waiting on customer" or "Back to open", "Reopen")."""
    if view.state == "resolved":
        return staff_resolved_post(view, _slack_id(view.resolved_by))
    text = f"{view.reference}: {view.topic_label} ({view.account_name})"
    blocks = _staff_blocks(view, requester_slack)
    resolve = button(
        "Mark resolved",
        SUPPORT_RESOLVE_ACTION,
        EscalationRef(reference=view.reference).encode(),
        style="primary",
        confirm=confirm_dialog(
            "Mark resolved?", f"The requester is told that {view.reference} is resolved.", "Mark resolved"
        ),
    )
    if view.state == "waiting":
        other = _state_button("Back to open", SUPPORT_STATE_ACTION, view.reference, "open")
    else:
        other = _state_button("Waiting on customer", SUPPORT_STATE_ACTION, view.reference, "waiting")
    blocks.append(context(_state_line(view)))
    blocks.append(actions(resolve, other, block_id=f"resolve_{view.reference}"))
    return fallback_text(text), blocks


def staff_resolved_post(view: EscalationView, staff_slack: str | None) -> tuple[str, list[Block]]:
    """The staff message once resolved: the same facts, who resolved it, and "Reopen"."""
    by = f"<@{staff_slack}>" if staff_slack else "billing staff"
    if view.resolved_by and view.resolved_by == view.requester_principal:
        by = "the requester"
    when = f" on {fmt_date(view.resolved_at)}" if view.resolved_at else ""
    blocks = _staff_blocks(view, None)
    blocks.append(context(f":white_check_mark: Resolved by {by}{when}."))
    blocks.append(
        actions(
            _state_button("Reopen", SUPPORT_STATE_ACTION, view.reference, "open"),
            block_id=f"reopen_{view.reference}",
        )
    )
    return fallback_text(f"{view.reference} resolved"), blocks


def _state_button(text: str, action_id: str, reference: str, state: State) -> Block:
    return button(text, action_id, StateChange(reference=reference, state=state).encode())


def _state_line(view: EscalationView) -> str:
    return f"State: *{view.state_label}*"


def _slack_id(principal: str | None) -> str | None:
    parsed = parse_principal(principal or "")
    return parsed.user_id if parsed and _SLACK_ID.match(parsed.user_id) else None


def _staff_blocks(view: EscalationView, requester_slack: str | None) -> list[Block]:
    who = f"{_fact(view.requester_name or view.requester_email)} ({_fact(view.requester_email, marks=False)})"
    if requester_slack:
        who += f", Slack user {_fact(requester_slack)}"
    account_id = clip_mrkdwn(escape_code(view.account_external_id), _FACT_LIMIT)
    facts = [
        f"*Account:* {_fact(view.account_name)} (`{account_id}`)",
        f"*Invoice:* {_fact(view.invoice_number) if view.invoice_number else 'none'}",
        f"*Requester:* {who}",
    ]
    message = {"type": "mrkdwn", "text": user_text(view.message), "verbatim": True}
    answer = (
        "reply in this thread to answer the requester in Slack (e-mailed to billing support too)"
        if parse_principal(view.requester_principal) is not None
        else "e-mailed to billing support; reply there"
    )
    return [
        header(f"{view.reference}: {view.topic_label}"),
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(facts), "verbatim": True}},
        {"type": "section", "text": message},
        context(f"Opened {fmt_date(view.created_at)} · {answer}."),
    ]


def _fact(value: str, *, marks: bool = True) -> str:
    """One value of the staff post's facts: one line, escaped, mrkdwn marks inert (not in an
    e-mail address, which staff copy as it is), within its share of the section."""
    return clip_mrkdwn(escape_field(value) if marks else escape_line(value), _FACT_LIMIT)


def resolved_dm(view: EscalationView) -> Screen:
    """The DM telling the requester their request was resolved."""
    text = (
        f"Billing support has marked your request {view.reference} ({view.topic_label}, "
        f"{view.account_name}) as resolved. If something is still open, reply to their e-mail "
        "or use /billing support."
    )
    return Screen(text, [section(f":white_check_mark: {escape_line(text)}")], "Billing support")


# -- a file sent to the app ---------------------------------------------------------------------

NO_LINK = "(no link: Slack did not share one with the app; ask the requester for the file)"


def _file_names(offer: FileOffer) -> str:
    names = ", ".join(f"*{escape_field(f.name)}*" for f in offer.files)
    more = offer.more or 0
    return names + (f" and {more} more file{'s' if more != 1 else ''}" if more else "")


def file_offer_screen(account: AccountView, offer: FileOffer) -> Screen:
    """The answer to a file sent to the app: send it to billing support (for the active account) or not."""
    count = len(offer.files) + (offer.more or 0)
    it = "it" if count == 1 else "them"
    text = (
        f"You sent {count} file{'s' if count != 1 else ''}. Send {it} to billing support for {account.name}? "
        f"They get the name and a link to {it} in Slack, not a copy, and reply by e-mail."
    )
    body = (
        f"You sent {_file_names(offer)}.\nSend {it} to billing support for *{escape_field(account.name)}*? "
        f"They get the name and a link to {it} in Slack (not a copy) and reply by e-mail."
    )
    blocks: list[Block] = [
        section(body),
        actions(
            button("Send to billing support", SUPPORT_FILE_SEND_ACTION, offer.encode(), style="primary"),
            button("Cancel", SUPPORT_FILE_CANCEL_ACTION, "cancel"),
        ),
    ]
    return Screen(text, blocks, "Billing support")


def file_offer_withdrawn_screen() -> Screen:
    return message_screen("Not sent. Nothing went to billing support.", "Billing support")


def file_request_message(offer: FileOffer) -> str:
    """The request's message for billing support: each file's name and its Slack link, then the
    person's note; within the message limit (files that do not fit are counted instead)."""
    files = list(offer.files)
    while True:
        more = (offer.more or 0) + len(offer.files) - len(files)
        lines = ["Sent in Slack for billing support (a link to the file in Slack, not a copy):"]
        for f in files:
            lines += [f"- {f.name}", f"  {f.link or NO_LINK}"]
        if more:
            lines.append(f"- and {more} more file{'s' if more != 1 else ''} in the same message")
        if offer.note:
            lines += ["", "Sent with:", offer.note]
        message = "\n".join(lines)
        if len(message) <= MAX_MESSAGE_LENGTH or len(files) <= 1:
            return message[:MAX_MESSAGE_LENGTH]
        files.pop()
