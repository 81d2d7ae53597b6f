"""Untrusted text never forges a mention, a link or a line in what Slack shows (issue 19, items 10, 11).

Account names, contact names, invoice numbers and descriptions come from the import file; display
names from Slack profiles (anyone sets theirs); card brands and decline reasons from Stripe. Slack
renders mrkdwn, ``<!channel>``-style mentions and ``<url|label>`` links in ``mrkdwn`` text objects,
in confirm dialogs and in a message's top-level fallback ``text`` (which notifications show), so in
all of them such text must be escaped, and where it sits on one line (a name, a number) it must stay
on that line: ``"Mallory\\n*Account:* Initech"`` must not add a bold ``Account`` line to the staff
post. Every builder is fed the same hostile values, then the real app is driven end to end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from slack_sdk import WebClient

from billing_core.escalations.views import EscalationView
from billing_core.messaging import ChatContact
from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine, ReminderMessage
from billing_core.views import (
    AccountView,
    Actor,
    CallerContext,
    InvoiceView,
    Page,
    PaymentMethodView,
    PaymentView,
)
from bot.slack.reminder_sender import SlackReminderSender
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import app_home_opened_event
from handlers.accounts.blocks import accounts_screen, balance_screen, overview_screen
from handlers.escalations.blocks import (
    open_escalations_screen,
    queued_screen,
    resolved_dm,
    staff_post,
    staff_resolved_post,
    support_modal,
)
from handlers.home.blocks import home_view
from handlers.identity.blocks import prompt_screen
from handlers.kit.blocks import Block, Screen, message_screen
from handlers.kit.invoice_blocks import invoices_screen
from handlers.kit.payment_outcome import outcome_screen
from handlers.payments.blocks import (
    add_card_screen,
    card_added_screen,
    history_screen,
    methods_screen,
    partial_payment_screen,
    pay_modal,
)
from handlers.reminders.blocks import reminder_blocks
from tests.security.conftest import STAFF_CHANNEL
from tests.support.bot_fixtures import World
from tests.support.bot_harness import SAMPLE, wait_for_listeners
from tests.support.sample_accounts import account, invoice

FORGED = "*Account:* Initech"  # a line that would look like the staff post's own "Account" line
ACCOUNT_NAME = f"Evil <!channel> <https://evil.test|click>\n{FORGED}"
PERSON_NAME = f"Mallory <!here>\n{FORGED}"
INVOICE_NUMBER = f"INV-<!here>\u2028{FORGED}"
DESCRIPTION = f"<@W111> <https://evil.test/invoice|pay here>\r\n{FORGED}"
CARD_BRAND = f"visa <https://evil.test/card|x>\v{FORGED}"
REASON = f"<!channel> call us\x0c{FORGED}"
# Raw Slack markup that must never reach a mrkdwn text or a fallback text as it is.
LIVE = ("<!channel>", "<!here>", "<@W111>", "<https://evil.test")
# In escaped mrkdwn every "&" starts one of Slack's three entities; anything else is a cut entity.
BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")

DUE = date(2026, 12, 1)
WHEN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


# -- the hostile values ------------------------------------------------------------------------


def an_account(name: str = ACCOUNT_NAME, external_id: str = "evil") -> AccountView:
    return AccountView(external_id, name, "usd", Money(125000, "usd"), 1, DUE, 1)


def an_invoice(number: str = INVOICE_NUMBER, description: str = DESCRIPTION, external_id: str = "evil") -> InvoiceView:
    return InvoiceView(
        number, external_id, date(2026, 11, 1), DUE, Money(125000, "usd"), Money(0, "usd"), "open", description, True
    )


def a_card(brand: str = CARD_BRAND, default: bool = False) -> PaymentMethodView:
    return PaymentMethodView("pm_evil", brand, "4242", 12, 2031, default)


def a_payment(status: str, numbers: tuple[str, ...] = (INVOICE_NUMBER,), reason: str = REASON) -> PaymentView:
    return PaymentView(
        7,
        "evil",
        Money(125000, "usd"),
        status,
        WHEN,
        numbers,
        card_brand=CARD_BRAND,
        card_last4="4242",
        failure_reason=reason,
        action_url="https://bot.test/stripe/authenticate/7.x",
        settled_at=WHEN,
    )


def an_escalation(
    name: str = PERSON_NAME,
    account_name: str = ACCOUNT_NAME,
    number: str | None = INVOICE_NUMBER,
    email: str = "mallory@evil.test",
    message: str = "<!channel> *help*",
) -> EscalationView:
    return EscalationView(
        42,
        "ESC-000042",
        "evil",
        account_name,
        number,
        "other",
        "Something else",
        message,
        "user",
        "open",
        "queued",
        email,
        name,
        "slack:T111:W333",
        WHEN,
        resolved_at=WHEN,
        resolved_by="slack:T111:W777",
    )


def a_reminder(
    number: str = INVOICE_NUMBER, account_name: str = ACCOUNT_NAME, count: int = 1, paid: bool = False
) -> ReminderMessage:
    numbers = [number] if count == 1 else [f"{number[:125]}{i}" for i in range(count)]
    lines = tuple(ReminderLine("evil", account_name, n, Money(125000, "usd"), DUE, paid=paid) for n in numbers)
    return ReminderMessage(step=1, recipient_name=PERSON_NAME, lines=lines)


# -- reading what Slack would get --------------------------------------------------------------


def text_objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every text object (mrkdwn or plain_text) in blocks or a view, confirm dialogs included."""
    return (d for d in _walk(node) if d.get("type") in ("mrkdwn", "plain_text") and isinstance(d.get("text"), str))


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in ``node`` (blocks, a view), depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def rendered_texts(blocks_or_view: Any, fallback: str | None = None) -> list[str]:
    """What Slack renders as mrkdwn: mrkdwn text objects and the message's fallback ``text``."""
    texts = [o["text"] for o in text_objects(blocks_or_view) if o["type"] == "mrkdwn"]
    return texts + ([fallback] if fallback is not None else [])


def all_texts(blocks_or_view: Any, fallback: str | None = None) -> list[str]:
    return [o["text"] for o in text_objects(blocks_or_view)] + ([fallback] if fallback is not None else [])


def assert_inert(blocks_or_view: Any, fallback: str | None = None) -> None:
    """No live mention or link in anything rendered as mrkdwn, no forged line in any text."""
    for text in rendered_texts(blocks_or_view, fallback):
        for token in LIVE:
            assert token not in text, f"live {token!r} in {text!r}"
        assert not BROKEN_ENTITY.search(text), f"a cut or unescaped '&' in {text!r}"
    for text in all_texts(blocks_or_view, fallback):
        for line in text.splitlines():  # \n, \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029
            assert not line.lstrip().startswith(FORGED), f"a forged line in {text!r}"


def caller(*accounts: AccountView) -> CallerContext:
    return CallerContext(Actor("mallory@evil.test", "slack:T111:W333", PERSON_NAME), accounts, accounts[0])


def every_surface(
    acct: AccountView, inv: InvoiceView, card: PaymentMethodView, esc: EscalationView, reminder: ReminderMessage
) -> Iterator[tuple[str, Any, str | None]]:
    """(name, blocks or view, fallback text) of every screen, modal, DM and post, fed the same values."""
    other = an_account("Globex", "globex")
    ctx = caller(acct, other)

    def screen(name: str, shown: Screen) -> tuple[str, Any, str | None]:
        return name, shown.blocks, shown.text

    yield screen("overview", overview_screen(ctx, inv))
    yield screen("overview with a notice", overview_screen(ctx, inv).with_notice(f"Switched to {acct.name}."))
    yield screen("balance", balance_screen(acct, inv))
    yield screen("invoices", invoices_screen(acct, [inv]))
    yield screen("no invoices", invoices_screen(acct, []))
    yield "pay modal, one invoice", pay_modal(acct, [inv], inv.outstanding, [card], invoice=inv.number), None
    yield "pay modal, balance", pay_modal(acct, [inv], acct.balance, [card], invoice=None), None
    yield "pay modal, no card", pay_modal(acct, [inv], acct.balance, [], invoice=None), None
    for status in ("succeeded", "failed", "requires_action", "pending"):
        yield screen(f"payment {status}", outcome_screen(a_payment(status, (inv.number,)), acct.name))
    yield screen("partial payment", partial_payment_screen(acct, "12.50", [inv]))
    yield screen("methods and the remove confirm", methods_screen(acct, [card, a_card(default=True)]))
    yield screen("add a card", add_card_screen(acct, "https://checkout.stripe.test/c/1?a=1&b=2"))
    yield screen("card added", card_added_screen(acct.name, card))
    yield screen("history", history_screen(acct, Page((a_payment("failed", (inv.number,)),), 0, 10, 1)))
    yield screen("accounts", accounts_screen(ctx))
    yield "home", home_view(ctx, [inv]), None
    yield "reminder", reminder_blocks_of(reminder), None
    yield (
        "reminder, paid",
        reminder_blocks_of(replace(reminder, lines=tuple(replace(line, paid=True) for line in reminder.lines))),
        None,
    )
    yield "support modal", support_modal(acct, [inv], invoice=inv.number, topic="other"), None
    yield screen("support request queued", queued_screen(esc))
    yield screen("open support requests", open_escalations_screen(acct, [esc]))
    text, blocks = staff_post(esc, "W333")
    yield "staff post", blocks, text
    text, blocks = staff_resolved_post(esc, "W777")
    yield "staff post, resolved", blocks, text
    yield screen("resolved DM", resolved_dm(esc))
    yield screen("verification prompt", prompt_screen("m*****y@evil.test", new=True))
    yield screen("a message", message_screen(f"I won't remind you about {inv.number} again."))


def reminder_blocks_of(message: ReminderMessage) -> list[Block]:
    return reminder_blocks(message)


SURFACES = [name for name, _, _ in every_surface(an_account(), an_invoice(), a_card(), an_escalation(), a_reminder())]


# -- every builder -------------------------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES)
def test_hostile_names_numbers_and_brands_never_give_a_live_mention_link_or_forged_line(surface: str) -> None:
    surfaces = every_surface(an_account(), an_invoice(), a_card(), an_escalation(), a_reminder())
    [(_, shown, fallback)] = [s for s in surfaces if s[0] == surface]
    assert_inert(shown, fallback)


def test_the_remove_card_confirm_escapes_the_account_name_and_the_card_brand() -> None:
    blocks = methods_screen(an_account(), [a_card()]).blocks
    [confirm] = [e["confirm"] for b in blocks for e in b.get("elements", []) if "confirm" in e]
    text = confirm["text"]["text"]
    assert confirm["text"]["type"] == "mrkdwn"
    assert "<!channel>" not in text and "<https://evil.test" not in text
    assert "&lt;!channel&gt; &lt;https://evil.test|click&gt;" in text
    assert "\n" not in text and "\v" not in text


def test_the_already_paid_confirm_escapes_the_invoice_number() -> None:
    blocks = reminder_blocks_of(a_reminder())
    [confirm] = [e["confirm"] for b in blocks for e in b.get("elements", []) if "confirm" in e]
    assert "<!here>" not in confirm["text"]["text"] and "&lt;!here&gt;" in confirm["text"]["text"]


def test_fallback_texts_are_escaped_like_the_blocks() -> None:
    acct, inv = an_account(), an_invoice()
    for shown in (
        overview_screen(caller(acct), inv),
        invoices_screen(acct, [inv]),
        methods_screen(acct, []),
        history_screen(acct, Page((), 0, 10, 0)),
        queued_screen(an_escalation()),
        resolved_dm(an_escalation()),
    ):
        assert "<!channel>" not in shown.text and "&lt;!channel&gt;" in shown.text
        assert "<https://evil.test|click>" not in shown.text and "&lt;https://evil.test|click&gt;" in shown.text
        assert "\n" not in shown.text


def test_a_display_name_cannot_add_a_line_or_a_bold_label_to_the_staff_post() -> None:
    text, blocks = staff_post(an_escalation(), "W333")
    facts = next(
        b["text"]["text"] for b in blocks if b.get("type") == "section" and "*Requester:*" in b["text"]["text"]
    )
    lines = facts.split("\n")
    assert [line.split(" ", 1)[0] for line in lines] == ["*Account:*", "*Invoice:*", "*Requester:*"]
    # The only "*Account:*" is ours: in the values every mark is inert (set between zero-width spaces).
    assert facts.count("*Account:*") == 1 and facts.count("Initech") == 3
    assert lines[2].startswith("*Requester:* Mallory &lt;!here&gt; ") and "(mallory@evil.test)" in lines[2]
    assert "<!here>" not in text and "\n" not in text and "\u2028" not in text


@pytest.mark.parametrize(
    "separator", ["\n", "\r", "\r\n", "\t", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"], ids=repr
)
def test_every_kind_of_line_break_in_a_name_is_flattened_in_the_staff_post(separator: str) -> None:
    esc = an_escalation(
        name=f"Mallory{separator}{FORGED}", account_name=f"Acme{separator}{FORGED}", number=f"INV-1{separator}{FORGED}"
    )
    text, blocks = staff_post(esc, None)
    facts = next(
        b["text"]["text"] for b in blocks if b.get("type") == "section" and "*Requester:*" in b["text"]["text"]
    )
    assert len(facts.splitlines()) == 3 and facts.count("*Account:*") == 1
    assert len(text.splitlines()) == 1


def test_the_reminder_dm_fallback_text_is_escaped() -> None:
    client = _RecordingClient()
    sender = SlackReminderSender(client.as_web_client())
    contact = ChatContact("W333", "UTC")
    message = a_reminder()
    posted = sender.tell(contact, message)
    sender.update(posted, replace(message, lines=tuple(replace(line, paid=True) for line in message.lines)))
    assert [method for method, _ in client.calls] == ["chat_postMessage", "chat_update"]
    for _, arguments in client.calls:
        assert "<!here>" not in arguments["text"] and "&lt;!here&gt;" in arguments["text"]
        assert_inert(arguments["blocks"], arguments["text"])


class _RecordingClient:
    """Just enough of ``WebClient`` for the reminder sender."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Any:
        def call(**arguments: Any) -> Any:
            self.calls.append((method, arguments))
            data = (
                {"ok": True, "channel": {"id": "D333"}}
                if method == "conversations_open"
                else {"ok": True, "channel": "D333", "ts": "1.2"}
            )
            return type("Response", (), {"data": data})()

        return call

    def as_web_client(self) -> WebClient:
        """Itself, for code typed against ``WebClient`` (it answers every method the sender calls)."""
        return cast(WebClient, self)


# -- lengths at Slack's limits, with entities at the cut --------------------------------------


LIMITS = {
    "section": 3000,
    "context": 2000,
    "header": 150,
    "confirm": 300,
    "button": 75,
    "option": 75,
    "title": 24,
    "fallback": 40_000,
}


def check_limits(node: Any, fallback: str | None) -> None:
    """Slack's Block Kit limits (tests/support/block_limits.py) for the texts that carry untrusted
    values, and no cut entity."""
    if fallback is not None:
        assert len(fallback) <= LIMITS["fallback"] and not BROKEN_ENTITY.search(fallback)
    for block in _walk(node):
        kind = block.get("type")
        if kind == "section" and isinstance(block.get("text"), dict):
            assert len(block["text"]["text"]) <= LIMITS["section"]
        if kind == "context":
            assert all(len(e.get("text", "")) <= LIMITS["context"] for e in block["elements"])
        if kind == "header":
            assert len(block["text"]["text"]) <= LIMITS["header"]
        if kind == "button":
            assert len(block["text"]["text"]) <= LIMITS["button"]
        if kind == "modal":
            assert len(block["title"]["text"]) <= LIMITS["title"]
        if "confirm" in block and isinstance(block["confirm"], dict) and "title" in block["confirm"]:
            assert len(block["confirm"]["text"]["text"]) <= LIMITS["confirm"]
        for option in block.get("options", []):
            assert len(option["text"]["text"]) <= LIMITS["option"]
    for text in rendered_texts(node):
        assert not BROKEN_ENTITY.search(text), f"an entity cut in two: {text[-12:]!r}"


@pytest.mark.parametrize("offset", range(5))
def test_values_far_beyond_slacks_limits_are_cut_between_entities_never_through_one(offset: int) -> None:
    pad = "x" * offset  # moves the cut through every position of "&amp;" and "&lt;"
    acct = an_account(name=(pad + "&<>*" * 80)[:255], external_id=(pad + "&" * 200)[:128])
    inv = an_invoice(number=(pad + "<&" * 70)[:128], description=pad + "&<" * 3000)
    card = a_card(brand=pad + "&" * 500)
    esc = an_escalation(
        name=(pad + "*&" * 200)[:255],
        account_name=acct.name,
        number=inv.number,
        email=(pad + "a" * 240)[:240] + "@evil.test",
        message=pad + "&" * 2000,
    )
    reminder = a_reminder(number=(pad + "&" * 130)[:128], account_name=acct.name, count=20)  # a DM's most
    for name, shown, fallback in every_surface(acct, inv, card, esc, reminder):
        try:
            check_limits(shown, fallback)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error
    # The staff post keeps every label within one section however long the values are.
    _, blocks = staff_post(esc, "W333")
    facts = next(
        b["text"]["text"] for b in blocks if b.get("type") == "section" and "*Requester:*" in b["text"]["text"]
    )
    assert [line.split(" ", 1)[0] for line in facts.split("\n")] == ["*Account:*", "*Invoice:*", "*Requester:*"]


@pytest.mark.parametrize("offset", range(5))
def test_a_description_past_a_sections_3000_characters_is_cut_between_entities(offset: int) -> None:
    inv = an_invoice(number="INV-1", description="x" * offset + "&" * 3000)
    [row] = [b for b in invoices_screen(an_account("Acme", "acme"), [inv]).blocks if "INV-1" in json.dumps(b)]
    text = row["text"]["text"]
    assert len(text) <= LIMITS["section"] and text.endswith("&amp;…")
    assert not BROKEN_ENTITY.search(text)


def test_the_staff_posts_facts_fit_one_section_with_every_value_at_its_longest() -> None:
    esc = an_escalation(name="*&" * 127, account_name="&" * 255, number="<" * 128, email="a" * 240 + "@evil.test")
    _, blocks = staff_post(replace(esc, account_external_id="&" * 128), "W333")
    facts = next(
        b["text"]["text"] for b in blocks if b.get("type") == "section" and "*Requester:*" in b["text"]["text"]
    )
    assert len(facts) <= LIMITS["section"] and not BROKEN_ENTITY.search(facts)
    assert [line.split(" ", 1)[0] for line in facts.split("\n")] == ["*Account:*", "*Invoice:*", "*Requester:*"]
    assert "(" + "a" * 240 + "@evil.test)" in facts  # the address is whole: staff reply to it


def test_fallback_texts_stay_within_slacks_limit_with_entities_at_the_cut() -> None:
    client = _RecordingClient()
    SlackReminderSender(client.as_web_client()).tell(
        ChatContact("W333", "UTC"),
        a_reminder(number="&" * 128, count=20),
    )
    reminder = client.calls[-1][1]["text"]
    assert len(reminder) <= LIMITS["fallback"] and not BROKEN_ENTITY.search(reminder)
    for offset in range(5):
        text = message_screen("x" * offset + "&" * 50_000).text
        assert len(text) <= LIMITS["fallback"] and not BROKEN_ENTITY.search(text)


# -- through the real app --------------------------------------------------------------------------


MALLORY = "W333"
USER_FACING = (
    "views.open",
    "views.update",
    "views.push",
    "views.publish",
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
)


@pytest.fixture
def evil(world: World) -> World:
    """An imported account named with markup, its contact Mallory whose Slack name forges a line."""
    world.slack.add_user(MALLORY, "mallory@evil.test", PERSON_NAME)
    evil_account = account(
        "evil",
        ACCOUNT_NAME,
        "usd",
        [("mallory@evil.test", PERSON_NAME)],
        [
            invoice(INVOICE_NUMBER, "2026-11-01", "2026-11-20", 125000, description=DESCRIPTION),
        ],
    )
    world.bot.services.importer.run({"accounts": [*SAMPLE["accounts"], evil_account]})
    world.slack.clear()
    return world


def messages_said(slack: SlackAPI) -> Iterator[tuple[str, Any, str | None]]:
    """(method, blocks or view, fallback text) of every Web API call that shows something."""
    for call in slack.calls():
        if call.method in USER_FACING:
            args = call.json_args
            yield call.method, args.get("view") or args.get("blocks") or [], args.get("text")


def test_an_account_and_a_display_name_full_of_markup_stay_data_through_the_real_app(evil: World) -> None:
    bot = evil.bot
    urls = [
        bot.command(text, user=MALLORY)[1]
        for text in ("", "balance", "invoices", "history", "accounts", "support Please call me back")
    ]
    bot.event(app_home_opened_event(MALLORY))
    [post] = bot.wait_calls("chat.postMessage", where=lambda c: c.json_args.get("channel") == STAFF_CHANNEL)
    bot.wait_calls("views.publish")
    replies = [bot.replies(url)[0] for url in urls]
    wait_for_listeners(bot)

    shown = [("reply", r.get("blocks") or [], r.get("text")) for r in replies] + list(messages_said(evil.slack))
    assert len(shown) >= 8
    everything = json.dumps(shown, ensure_ascii=False)
    assert "Evil" in everything and "Mallory" in everything  # the names are there, as data
    for method, blocks, fallback in shown:
        try:
            assert_inert(blocks, fallback)
        except AssertionError as error:
            raise AssertionError(f"{method}: {error}") from error

    facts = next(
        b["text"]["text"]
        for b in post.json_args["blocks"]
        if b.get("type") == "section" and "*Requester:*" in b["text"]["text"]
    )
    assert [line.split(" ", 1)[0] for line in facts.split("\n")] == ["*Account:*", "*Invoice:*", "*Requester:*"]
    assert facts.count("*Account:*") == 1
    assert "<!channel>" not in post.json_args["text"] and "\n" not in post.json_args["text"]
