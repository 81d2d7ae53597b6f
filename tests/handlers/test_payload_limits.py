"""Every screen the bot builds is one Slack accepts, whatever the data (issue 16, item 1).

Each Block Kit builder is fed extreme but legal inputs (0 to 150 invoices, 30 cards, 120 accounts,
names of 200+ characters with emoji and mrkdwn marks, ids at the import's 128-character maximum,
amounts of 0 and 99,999,999,999 in USD, JPY and KWD, history pages at both ends and the middle)
and each payload is checked through slack_sdk's models and the limits they do not check
(``tests.support.block_limits``). Any problem is a screen Slack would refuse: the person sees nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from billing_core.autopay.notices import AutopayNotice, NoticeKind
from billing_core.autopay.switch import AutopayStatus
from billing_core.escalations.threads import MAX_THREAD_MESSAGE, MAX_URL, Link, ThreadMessage
from billing_core.escalations.views import EscalationView
from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine, ReminderMessage
from billing_core.views import (
    AccountView,
    Actor,
    CallerContext,
    InvoiceView,
    Page,
    PaidElsewhereView,
    PaymentMethodView,
    PaymentView,
)
from handlers.accounts.blocks import accounts_screen, balance_screen, help_screen, overview_screen
from handlers.autopay.blocks import autopay_notice_screen, autopay_screen, confirm_screen
from handlers.chat.blocks import (
    already_paid_screen,
    chat_help_screen,
    contact_change_screen,
    contacts_screen,
    copy_screen,
    due_range_screen,
    invoice_screen,
    not_caught_screen,
    pay_buttons_screen,
    reminder_pay_screen,
    reminders_screen,
)
from handlers.chat.blocks import (
    partial_payment_screen as chat_partial_screen,
)
from handlers.escalations.blocks import (
    open_escalations_screen,
    queued_screen,
    resolved_dm,
    staff_post,
    staff_resolved_post,
    support_modal,
)
from handlers.escalations.thread_blocks import relayed_to_requester, relayed_to_staff, requester_thread_root
from handlers.home.blocks import home_refusal_view, home_view
from handlers.identity.blocks import code_modal, prompt_screen, verified_view
from handlers.kit.blocks import Screen, message_screen
from handlers.kit.invoice_blocks import invoices_screen
from handlers.kit.payment_outcome import outcome_screen
from handlers.kit.surfaces import screen_view
from handlers.payments.blocks import (
    add_card_screen,
    card_added_screen,
    history_screen,
    methods_screen,
    partial_payment_screen,
    pay_modal,
    processing_view,
)
from handlers.reminders.blocks import reminder_blocks, withheld_blocks
from tests.support.block_limits import message_problems, view_problems

ID_MAX = 128  # the import's longest account id and invoice number (billing_core/sources/import_format.py)
LONG_NAME = ("Ünïcode 👩‍👩‍👧‍👦 *bold* _it_ ~strike~ `code` <@U123> <!here> & Co. " * 4)[:230]
NAMES = ("Acme", LONG_NAME)
LONG_ID = ("acct-" + "x" * ID_MAX)[:ID_MAX]
IDS = ("acme", LONG_ID)
AMOUNTS = (0, 99_999_999_999)
CURRENCIES = ("usd", "jpy", "kwd")
LONG_URL = "https://docs.example.com/" + "d" * (2000 - 25)  # the import's longest document_url
INVOICE_COUNTS = (0, 1, 20, 60, 150)


@dataclass(frozen=True)
class Case:
    name: str
    account_id: str
    amount: int
    currency: str

    def account(self, invoices: int = 3) -> AccountView:
        return AccountView(
            self.account_id,
            self.name,
            self.currency,
            Money(self.amount * invoices, self.currency),
            invoices,
            date(2026, 12, 1),
            invoices // 2,
        )

    def invoices(self, count: int) -> list[InvoiceView]:
        return [
            InvoiceView(
                _number(self.account_id, n),
                self.account_id,
                date(2026, 10, 1),
                date(2026, 12, 1),
                Money(self.amount, self.currency),
                Money(0, self.currency),
                "open",
                self.name if n % 2 else "",
                n % 3 == 0,
                payment_in_progress=n % 7 == 6,
                document_url=LONG_URL if n % 2 == 0 else None,
            )
            for n in range(count)
        ]


def _number(account_id: str, n: int) -> str:
    prefix = f"INV-{n}-"
    return prefix + account_id[: ID_MAX - len(prefix)] if len(account_id) > 20 else f"INV-{n}"


CASES = [Case(*combo) for combo in itertools.product(NAMES, IDS, AMOUNTS, CURRENCIES)]


def cards(count: int) -> list[PaymentMethodView]:
    return [
        PaymentMethodView(
            f"pm_{n:03d}_" + "c" * 200, "american express" + " x" * 40, f"{n:04d}", 12, 2031, n == count - 1
        )
        for n in range(count)
    ]


def accounts(case: Case, count: int) -> CallerContext:
    views = tuple(
        AccountView(
            f"{case.account_id[:120]}-{n}",
            f"{case.name} {n}",
            case.currency,
            Money(case.amount, case.currency),
            1,
            None,
        )
        for n in range(count)
    )
    return CallerContext(Actor("ann@acme.test", "slack:T1:U1", case.name), views, views[-1])


def payment(case: Case, n: int, status: str) -> PaymentView:
    return PaymentView(
        n,
        case.account_id,
        Money(case.amount, case.currency),
        status,
        datetime(2026, 11, 1, tzinfo=UTC),
        tuple(i.number for i in case.invoices(3)),
        card_brand=case.name[:30],
        card_last4="4242",
        failure_reason=case.name,
        action_url="https://hooks.stripe.com/" + "a" * 500,
        settled_at=None,
        receipt_url="https://pay.stripe.com/receipts/" + "r" * 1900,
    )


def paid_outside(case: Case, count: int) -> tuple[PaidElsewhereView, ...]:
    """Reported paid outside Slack, at the push API's longest method and reference."""
    return tuple(
        PaidElsewhereView(
            _number(case.account_id, n),
            Money(case.amount, case.currency),
            case.name[:64],
            "<!here> *ref* " + "r" * 241,
            date(2026, 11, 24),
        )
        for n in range(count)
    )


def escalation(case: Case, n: int) -> EscalationView:
    return EscalationView(
        n,
        f"ESC-{n:06d}",
        case.account_id,
        case.name,
        _number(case.account_id, n),
        "invoice_question",
        "Question about an invoice",
        case.name * 30,
        "user",
        "open",
        "sent",
        "ann@acme.test",
        case.name,
        "slack:T1:U1",
        datetime(2026, 11, 1, tzinfo=UTC),
        resolved_at=datetime(2026, 11, 2, tzinfo=UTC),
        resolved_by="U2",
    )


def reminder(case: Case, count: int, paid: bool = False) -> ReminderMessage:
    lines = tuple(
        ReminderLine(
            f"{case.account_id[:124]}-{n % 3}",
            case.name,
            _number(case.account_id, n),
            Money(case.amount, case.currency),
            date(2026, 12, 1),
            paid=paid or n % 5 == 4,
            autopay_card=case.name if n % 4 == 1 else "",
            document_url=LONG_URL if n % 2 == 0 else None,
        )
        for n in range(count)
    )
    return ReminderMessage(step=3, recipient_name=case.name, lines=lines)


def screens(case: Case) -> Iterator[tuple[str, Screen]]:
    """Every message screen, at the sizes that matter for it."""
    for count in INVOICE_COUNTS:
        yield f"invoices x{count}", invoices_screen(case.account(count), case.invoices(count))
        yield f"partial payment x{count}", partial_payment_screen(case.account(count), case.name, case.invoices(count))
        escalations = [escalation(case, n) for n in range(count)]
        yield f"open requests x{count}", open_escalations_screen(case.account(), escalations)
    for count in (0, 1, 20, 30):
        yield f"methods x{count}", methods_screen(case.account(), cards(count))
    yield "methods x30, page 2", methods_screen(case.account(), cards(30), page=1)
    yield "methods x45, page 2", methods_screen(case.account(), cards(45), page=1)
    for count in (1, 2, 45, 120):
        yield f"accounts x{count}", accounts_screen(accounts(case, count))
        yield f"overview x{count}", overview_screen(accounts(case, count), case.invoices(1)[0])
        yield f"overview x{count}, nothing due", overview_screen(accounts(case, count), None)
    invoice = case.invoices(1)[0]
    yield "balance", balance_screen(case.account(), invoice)
    yield "balance, nothing due", balance_screen(case.account(0), None)
    for total, page in ((0, 0), (10, 0), (150, 0), (150, 3), (150, 7), (21, 1)):
        items = tuple(payment(case, n, "failed") for n in range(min(20, max(0, total - page * 20))))
        yield f"history {page + 1} of {total}", history_screen(case.account(), Page(items, page, 20, total))
        yield (
            f"history {page + 1} of {total}, paid outside Slack",
            history_screen(case.account(), Page(items, page, 20, total), paid_outside(case, 25)),
        )
    for status in ("succeeded", "failed", "requires_action", "pending"):
        yield f"outcome {status}", outcome_screen(payment(case, 1, status), case.name)
    for state in ("refunded", "partially_refunded", "disputed"):
        after = replace(payment(case, 1, "succeeded"), state=state, refunded=Money(case.amount, case.currency))
        yield f"outcome {state}", outcome_screen(after, case.name)
    yield "help", help_screen("billing+" + case.name.replace(" ", "") + "@acme.test")
    yield "add card", add_card_screen(case.account(), "https://checkout.stripe.com/" + "c" * 900)
    yield "card added", card_added_screen(case.name, cards(1)[0])
    yield "queued", queued_screen(escalation(case, 1))
    yield "resolved DM", resolved_dm(escalation(case, 1))
    yield "prompt", prompt_screen("a***@" + case.name, new=True)
    yield "message", message_screen(case.name * 20)
    for enabled, card in ((False, None), (False, cards(1)[0]), (True, cards(1)[0])):
        autopay_status = autopay(case, enabled, card)
        yield f"autopay {enabled} {card is not None}", autopay_screen(autopay_status)
        yield f"autopay confirm on {enabled}", confirm_screen(autopay_status, True)
        yield f"autopay confirm off {enabled}", confirm_screen(autopay_status, False)
        yield f"methods x30 with autopay {enabled}", methods_screen(case.account(), cards(30), autopay_status)
        yield f"methods x1 with autopay {enabled}", methods_screen(case.account(), cards(1), autopay_status)
    kinds: tuple[NoticeKind, ...] = (
        "turned_on",
        "turned_off",
        "card_removed",
        "charged",
        "declined",
        "needs_authentication",
        "card_expiring",
    )
    for kind in kinds:
        yield f"autopay notice {kind}", autopay_notice_screen(autopay_notice(case, kind))
    many = case.invoices(150)
    yield "chat invoice", invoice_screen(many[0], case.name)
    yield "chat pay buttons", pay_buttons_screen(many, case.name * 10)
    yield "chat already paid", already_paid_screen(many, case.name * 10)
    yield "chat reminder pay", reminder_pay_screen(many)
    yield "chat not caught", not_caught_screen([case.name] * 5, support_account=case.account_id)
    yield "chat help", chat_help_screen()
    account = case.account(150)
    amount = Money(case.amount, case.currency).format()
    yield "chat partial", chat_partial_screen(case.account_id, many[0], amount)
    yield "chat partial, no invoice", chat_partial_screen(case.account_id, None, "")
    yield "chat contact change", contact_change_screen(account)
    yield "chat copy", copy_screen(many[0])
    yield "chat copy with a link", copy_screen(replace(many[0], document_url="https://docs.example/" + "x" * 2900))
    for detail in ("stop", "snooze", "how"):
        yield (
            f"chat reminders {detail}",
            reminders_screen(detail, (-30, -7, 0, 3, 7, 14, 30, 60), case.account_id, many),
        )
    people = [(case.name, f"{n}@{case.account_id[:60]}.test") for n in range(80)]
    yield "chat contacts", contacts_screen(account, people)
    yield "chat due range", due_range_screen(date(2026, 12, 1), date(2026, 12, 31), many)
    yield "chat due range, none", due_range_screen(date(2026, 12, 1), date(2026, 12, 1), [])


def autopay(case: Case, enabled: bool, card: PaymentMethodView | None) -> AutopayStatus:
    return AutopayStatus(
        case.account_id,
        case.name,
        enabled,
        card,
        changed_by="ann@acme.test",
        changed_at=datetime(2026, 11, 1, tzinfo=UTC),
        collected_by_stripe=10**6 if enabled else 0,
    )


def autopay_notice(case: Case, kind: NoticeKind) -> AutopayNotice:
    return AutopayNotice(
        kind=kind,
        account_external_id=case.account_id,
        account_name=case.name,
        card_label=case.name,
        changed_by=case.name,
        invoice_number=_number(case.account_id, 1),
        reason=case.name * 5,
        action_url="https://hooks.stripe.com/" + "a" * 1500,
        retry_on=date(2026, 12, 4),
        card_expires="12/26",
        days_left=7,
        payment=payment(case, 1, "succeeded"),
    )


def messages(case: Case) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
    """Messages posted with chat.postMessage: reminders and the staff post."""
    for count in (1, 20):
        message = reminder(case, count)
        yield f"reminder x{count}", reminder_blocks(message), message.fallback_text()
        yield f"reminder x{count} paid", reminder_blocks(reminder(case, count, paid=True)), ""
        yield f"withheld x{count}", withheld_blocks(message), ""
    text, blocks = staff_post(escalation(case, 1), "U123")
    yield "staff post", blocks, text
    text, blocks = staff_resolved_post(escalation(case, 1), "U234")
    yield "staff resolved", blocks, text
    yield from thread_messages(case)


def thread_messages(case: Case) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
    """The support threads (issue 31): the staff post and the requester's first DM message in every
    state, and the longest messages either side can send, with the most links a message carries."""
    base = escalation(case, 999_999_999)
    for state, waiting, status in (
        ("open", None, "open"),
        ("waiting", base.created_at, "open"),
        ("resolved", None, "resolved"),
    ):
        view = replace(base, status=status, waiting_since=waiting)
        text, blocks = staff_post(view, "U123")
        yield f"staff post {state}", blocks, text
        text, blocks = requester_thread_root(view)
        yield f"requester thread {state}", blocks, text
    long_text = (case.name + " *b* _i_ `c` <@U1> <!channel> & 🏳️‍🌈 ") * 100
    links = tuple(Link(url="https://files.example/" + "x" * (MAX_URL - 30), name=case.name * 5) for _ in range(10))
    message = ThreadMessage(
        1, base.reference, "staff", case.name * 3, long_text[:MAX_THREAD_MESSAGE], links, base.created_at
    )
    text, blocks = relayed_to_requester(base, message)
    yield "relayed to requester", blocks, text
    text, blocks = relayed_to_staff(base, replace(message, side="requester"))
    yield "relayed to staff", blocks, text
    text, blocks = relayed_to_staff(base, replace(message, text="", links=()))
    yield "relayed to staff, empty", blocks, text


def views(case: Case) -> Iterator[tuple[str, dict[str, Any]]]:
    """Modals and the Home tab."""
    for count in INVOICE_COUNTS:
        invoices = case.invoices(count)
        yield f"home x{count}", home_view(_home_ctx(case, count), invoices[:30])
        yield (
            f"home x{count}, autopay",
            home_view(_home_ctx(case, count), invoices[:30], autopay(case, True, cards(1)[0])),
        )
        chosen = invoices[-1].number if invoices else None
        yield (
            f"support modal x{count}",
            support_modal(
                case.account(count), invoices, invoice=chosen, topic="payment_declined", message=case.name * 50
            ),
        )
        invoices = case.invoices(max(1, count))
        total = Money(case.amount * len(invoices), case.currency)
        yield f"pay balance x{count}", pay_modal(case.account(count), invoices, total, cards(30), invoice=None)
    yield "home, 120 accounts", home_view(accounts(case, 120), case.invoices(30))
    yield (
        "pay one",
        pay_modal(
            case.account(),
            case.invoices(1),
            Money(case.amount, case.currency),
            cards(1),
            invoice=case.invoices(1)[0].number,
        ),
    )
    yield (
        "pay, no card",
        pay_modal(
            case.account(), case.invoices(1), Money(case.amount, case.currency), [], invoice=case.invoices(1)[0].number
        ),
    )
    yield "processing", processing_view(Money(case.amount, case.currency).format())
    yield "home refused", home_refusal_view(case.name * 20)
    yield "code modal", code_modal()
    yield "verified", verified_view()


def _home_ctx(case: Case, count: int) -> CallerContext:
    active = case.account(count)
    return CallerContext(Actor("ann@acme.test", "slack:T1:U1"), (active, *accounts(case, 2).accounts), active)


def _ids(case: Case) -> str:
    return f"{'long' if len(case.name) > 10 else 'short'}-name {len(case.account_id)}-id {case.amount} {case.currency}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_message_screen_is_one_slack_accepts(case: Case) -> None:
    found = [
        f"{name}: {problem}"
        for name, screen in screens(case)
        for problem in message_problems(screen.blocks, screen.text)
    ]
    assert found == []


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_screen_opened_from_the_home_tab_is_a_modal_slack_accepts(case: Case) -> None:
    found = [f"{name}: {problem}" for name, screen in screens(case) for problem in view_problems(screen_view(screen))]
    assert found == []


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_posted_message_is_one_slack_accepts(case: Case) -> None:
    found = [
        f"{name}: {problem}" for name, blocks, text in messages(case) for problem in message_problems(blocks, text)
    ]
    assert found == []


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_modal_and_home_tab_is_one_slack_accepts(case: Case) -> None:
    found = [f"{name}: {problem}" for name, view in views(case) for problem in view_problems(view)]
    assert found == []
