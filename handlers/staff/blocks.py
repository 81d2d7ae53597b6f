"""The staff receivables view (App Home of billing staff) and its modals, as pure builders.

Kept inside Slack's Block Kit limits whatever the data: at most ``MAX_CURRENCIES`` currency lines
and ``PAGE_SIZE`` accounts (3 blocks each) on a Home of at most 100 blocks; names and requests
clipped; the close-an-invoice select lists at most 100 invoices.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from billing_core.accounts.receivables import BUCKETS, Aging
from billing_core.money import Money
from billing_core.staff.desk import DeskAccount, DeskOverview, MonthFigures, OpenInvoice, OpenRequest
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    clip_mrkdwn,
    confirm_dialog,
    context,
    divider,
    escape_line,
    fmt_date,
    header,
    modal,
    plain,
    section,
)
from handlers.staff.ids import (
    STAFF_CLOSE_MODAL,
    STAFF_CLOSE_OPEN_ACTION,
    STAFF_NEXT_ACTION,
    STAFF_PAGE_ACTION,
    STAFF_PAUSE_MODAL,
    STAFF_PAUSE_OPEN_ACTION,
    STAFF_PREVIOUS_ACTION,
    STAFF_REMIND_NOW_ACTION,
    STAFF_REQUESTS_ACTION,
    STAFF_RESUME_ACTION,
)
from handlers.staff.payloads import (
    CLOSE_HOW_BLOCK,
    CLOSE_HOW_INPUT,
    CLOSE_INVOICE_BLOCK,
    CLOSE_INVOICE_INPUT,
    CLOSE_METHOD_BLOCK,
    CLOSE_METHOD_INPUT,
    CLOSE_REFERENCE_BLOCK,
    CLOSE_REFERENCE_INPUT,
    PAID_ELSEWHERE,
    PAUSE_DATE_BLOCK,
    PAUSE_DATE_INPUT,
    VOID,
    StaffAccount,
    StaffPage,
)

PAGE_SIZE = 10
MAX_CURRENCIES = 10
NAME_CHARS = 80
LABELS = {"current": "Current", "1-30": "1–30 days", "31-60": "31–60", "61-90": "61–90", "90+": "90+"}


def _amount(minor: int, currency: str) -> str:
    return Money(minor, currency).format()


def _buckets(aging: Aging) -> str:
    return " · ".join(
        f"{LABELS[name]} {_amount(minor, aging.currency)}" for name, minor in zip(BUCKETS, aging.amounts, strict=True)
    )


def _name(name: str) -> str:
    return escape_line(name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…")


def _when(moment: datetime | None) -> str:
    return fmt_date(moment) if moment is not None else "never"


def staff_home_view(overview: DeskOverview, notice: str = "") -> Block:
    blocks: list[Block] = [header("Receivables")]
    if notice:
        blocks.append(section(f":information_source: {escape_line(notice)}"))
    blocks.append(
        context(
            f"As of {fmt_date(overview.today)}. Open amounts by days past the due date; "
            "visible only to members of the billing support channel."
        )
    )
    blocks.extend(_totals(overview.totals))
    blocks.append(_figures(overview.figures))
    blocks.append(divider())
    blocks.append(section(f"*Most overdue accounts* · page {overview.page + 1}"))
    if not overview.accounts:
        blocks.append(section("Nothing is overdue. :tada:"))
    for row in overview.accounts[:PAGE_SIZE]:
        blocks.extend(account_blocks(row, overview.today))
    blocks.append(_paging(overview))
    return {"type": "home", "blocks": blocks[:100]}


def _totals(totals: Sequence[Aging]) -> list[Block]:
    if not totals:
        return [section("*Totals:* nothing is open.")]
    blocks = [
        section(f"*{aging.currency.upper()}* · open {_amount(aging.total, aging.currency)}\n{_buckets(aging)}")
        for aging in totals[:MAX_CURRENCIES]
    ]
    if len(totals) > MAX_CURRENCIES:
        blocks.append(context(f"{len(totals) - MAX_CURRENCIES} more currencies: see `billing-bot receivables`."))
    return blocks


def _per_currency(amounts: dict[str, int]) -> str:
    if not amounts:
        return "nothing"
    shown = [_amount(minor, currency) for currency, minor in sorted(amounts.items())[:MAX_CURRENCIES]]
    more = len(amounts) - MAX_CURRENCIES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _figures(figures: MonthFigures) -> Block:
    dso = ", ".join(
        f"{currency.upper()} {days} days" if days is not None else f"{currency.upper()} n/a"
        for currency, days in sorted(figures.dso_days.items())[:MAX_CURRENCIES]
    )
    rate = figures.reminder_to_payment_percent
    reminded = (
        f"{figures.reminded_paid:,} of {figures.reminded_invoices:,} invoices reminded this month are paid ({rate}%)"
        if rate is not None
        else "no reminders sent this month"
    )
    text = (
        f"*{figures.month.strftime('%B %Y')}:* collected through Slack {_per_currency(figures.collected_slack)}; "
        f"by autopay {_per_currency(figures.collected_autopay)}\n"
        f"DSO (last 30 days' invoices): {dso or 'n/a'} · Reminder to payment: {reminded}"
    )
    return section(clip_mrkdwn(text, 3000))


def account_blocks(row: DeskAccount, today: date) -> list[Block]:
    aging = row.aging
    value = StaffAccount(account=row.external_id).encode()
    text = (
        f"*{_name(row.name)}* · {aging.currency.upper()} · overdue *{_amount(aging.overdue, aging.currency)}* "
        f"(oldest due {fmt_date(row.oldest_due_on)})\n{_buckets(aging)}"
    )
    facts = [
        f"Last reminder: {_when(row.last_reminder_at)}",
        f"Last contact activity: {_when(row.last_contact_at)}",
        f"Open requests: {row.open_requests}",
        f"Autopay: {'on' if row.autopay else 'off'}",
        _promise(row, today),
    ]
    if row.hold_until is not None:
        facts.append(f":double_vertical_bar: Reminders paused until {fmt_date(row.hold_until - timedelta(seconds=1))}")
    buttons = [
        button("Pause reminders…", STAFF_PAUSE_OPEN_ACTION, value),
        button("Resume reminders", STAFF_RESUME_ACTION, value),
        button(
            "Send reminder now",
            STAFF_REMIND_NOW_ACTION,
            value,
            confirm=confirm_dialog(
                "Send a reminder now?", "Every billing contact of the account gets one DM now (once a day).", "Send"
            ),
        ),
        button("Paid elsewhere / void…", STAFF_CLOSE_OPEN_ACTION, value),
        button(f"Requests ({row.open_requests})", STAFF_REQUESTS_ACTION, value),
    ]
    return [
        section(clip_mrkdwn(text, 3000)),
        context(clip_mrkdwn(" · ".join(f for f in facts if f), 3000)),
        actions(*buttons),
    ]


def _promise(row: DeskAccount, today: date) -> str:
    promise = row.promise
    if promise is None:
        return "Promise to pay: none"
    day = fmt_date(promise.promised_on)
    if promise.status == "broken":
        return f":warning: *Promise BROKEN* (was to pay on {day})"
    if promise.status == "kept":
        return f"Promise kept ({day})"
    return f":handshake: Promised to pay on {day}"


def _paging(overview: DeskOverview) -> Block:
    elements = [button("Refresh", STAFF_PAGE_ACTION, StaffPage(page=overview.page).encode())]
    if overview.page > 0:
        elements.append(button("Previous", STAFF_PREVIOUS_ACTION, StaffPage(page=overview.page - 1).encode()))
    if overview.more:
        elements.append(button("Next", STAFF_NEXT_ACTION, StaffPage(page=overview.page + 1).encode()))
    return actions(*elements, block_id="staff_paging")


# -- modals ------------------------------------------------------------------------------------


def pause_modal(account_external_id: str, account_name: str, today: date) -> Block:
    picker: Block = {
        "type": "datepicker",
        "action_id": PAUSE_DATE_INPUT,
        "initial_date": (today + timedelta(days=7)).isoformat(),
        "placeholder": plain("Pick a day"),
    }
    return modal(
        "Pause reminders",
        [
            section(f"No reminders to any contact of *{_name(account_name)}* until the end of the day you pick."),
            {
                "type": "input",
                "block_id": PAUSE_DATE_BLOCK,
                "label": plain("Paused until"),
                "hint": plain("After today, at most a year ahead.", 150),
                "element": picker,
            },
        ],
        callback_id=STAFF_PAUSE_MODAL,
        submit="Pause",
        close="Cancel",
        private_metadata=StaffAccount(account=account_external_id).encode(),
    )


def _option(text: str, value: str) -> Block:
    return {"text": plain(text, 75), "value": value[:150]}


def close_modal(account_external_id: str, account_name: str, invoices: Sequence[OpenInvoice]) -> Block:
    if not invoices:
        return modal("Close an invoice", [section(f"*{_name(account_name)}* has no open invoice.")])
    options = [
        _option(f"{i.number} · {i.open_amount.format()} · due {fmt_date(i.due_on)}", i.number) for i in invoices[:100]
    ]
    how = [_option("Paid elsewhere (wire, cheque…)", PAID_ELSEWHERE), _option("Void", VOID)]
    return modal(
        "Close an invoice",
        [
            section(f"Close an open invoice of *{_name(account_name)}*: no more reminders or payments for it."),
            {
                "type": "input",
                "block_id": CLOSE_INVOICE_BLOCK,
                "label": plain("Invoice"),
                "element": {"type": "static_select", "action_id": CLOSE_INVOICE_INPUT, "options": options},
            },
            {
                "type": "input",
                "block_id": CLOSE_HOW_BLOCK,
                "label": plain("How"),
                "element": {
                    "type": "static_select",
                    "action_id": CLOSE_HOW_INPUT,
                    "options": how,
                    "initial_option": how[0],
                },
            },
            {
                "type": "input",
                "block_id": CLOSE_METHOD_BLOCK,
                "label": plain("Paid by (for paid elsewhere)"),
                "optional": True,
                "element": {"type": "plain_text_input", "action_id": CLOSE_METHOD_INPUT, "max_length": 64},
            },
            {
                "type": "input",
                "block_id": CLOSE_REFERENCE_BLOCK,
                "label": plain("Reference"),
                "optional": True,
                "element": {"type": "plain_text_input", "action_id": CLOSE_REFERENCE_INPUT, "max_length": 255},
            },
        ],
        callback_id=STAFF_CLOSE_MODAL,
        submit="Close invoice",
        close="Cancel",
        private_metadata=StaffAccount(account=account_external_id).encode(),
    )


def requests_screen(account_name: str, requests: Sequence[OpenRequest]) -> Screen:
    title = f"Open requests of {account_name}"
    if not requests:
        return Screen(f"{title}: none.", [section(f"*{_name(account_name)}* has no open request.")], "Requests")
    blocks: list[Block] = [section(f"*Open requests of {_name(account_name)}*")]
    for request in requests[:20]:
        blocks.append(
            section(
                clip_mrkdwn(
                    f"*{request.reference}* · {escape_line(request.topic)} · {fmt_date(request.created_at)}\n"
                    f"{_name(request.requester_name)} ({escape_line(request.requester_email)})\n"
                    f"{escape_line(request.message[:500])}",
                    3000,
                )
            )
        )
    blocks.append(context("Answer and resolve them from the billing support channel."))
    return Screen(f"{title}: {len(requests)}.", blocks, "Requests")
