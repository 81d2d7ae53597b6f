"""Chat over signed HTTP: messages in the app's DM, @mentions and the assistant panel, answered
with the same screens and buttons as /billing (on SQLite, and on PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from billing_core.db.tables import AuditEventRecord, EscalationRecord, PaymentMethodRecord
from devtools.loopback.slack_api import RecordedCall
from devtools.loopback.slack_signing import button_action, event_body, signed_headers
from handlers.chat import listeners as chat_listeners
from handlers.runtime.seen_events import SeenEvents
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, ANN_ACTOR, STRANGER, SUPPORT_EMAIL, wait_for_listeners

ANN_DM = f"D{ANN}"
CARD = "4242 4242 4242 4242"
_TS = itertools.count(1)


def next_ts() -> str:
    return f"{int(time.time())}.{next(_TS):06d}"


def dm(text: str, user: str = ANN, *, thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    """A ``message`` event typed in the app's DM (``message.im``)."""
    event = {
        "type": "message",
        "channel": f"D{user}",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": next_ts(),
        "team": "T111",
        **extra,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def mention(text: str, user: str = ANN, channel: str = "C0PUBLIC") -> dict[str, Any]:
    return {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": next_ts(),
        "team": "T111",
    }


def edited(original: dict[str, Any], text: str, *, by: str | None = None) -> dict[str, Any]:
    """The ``message_changed`` event Slack sends when ``original`` is edited to say ``text``."""
    edit_ts = next_ts()
    message = {key: original[key] for key in ("type", "user", "ts", "team", "thread_ts", "bot_id") if key in original}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": original["channel"],
        "channel_type": "im",
        "ts": edit_ts,
        "event_ts": edit_ts,
        "message": {**message, "text": text, "edited": {"user": by or original["user"], "ts": edit_ts}},
        "previous_message": {**message, "text": original["text"]},
    }


def said(world: World, event: dict[str, Any], method: str = "chat.postMessage") -> RecordedCall:
    """What the bot answered ``event`` with (its one ``method`` call)."""
    before = len(world.slack.calls(method))
    assert world.bot.event(event).status_code == 200
    calls = world.bot.wait_calls(method, before + 1)
    return calls[before]


def text_of(call: RecordedCall) -> str:
    return json.dumps(call.json_args, ensure_ascii=False)


def elements(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for block in blocks:
        if block.get("accessory"):
            yield block["accessory"]
        yield from block.get("elements", [])


def buttons(call: RecordedCall, action_id: str) -> list[dict[str, Any]]:
    return [e for e in elements(call.json_args.get("blocks") or []) if e.get("action_id") == action_id]


def test_asking_the_balance_in_the_dm_is_answered_there(world: World) -> None:
    answer = said(world, dm("what do I owe?"))
    assert answer.json_args["channel"] == ANN_DM and answer.json_args.get("thread_ts") is None
    assert "$1,750.50" in text_of(answer) and "Acme Corp" in text_of(answer)
    assert world.stripe.intents() == []


def test_a_message_typed_in_a_thread_is_answered_in_that_thread(world: World) -> None:
    answer = said(world, dm("show my invoices", thread_ts="1700000000.000100"))
    assert answer.json_args["thread_ts"] == "1700000000.000100"
    assert "INV-1" in text_of(answer) and "INV-2" in text_of(answer)
    [status] = world.bot.wait_calls("assistant.threads.setStatus")  # "is looking into it…" while it works
    assert status.json_args["thread_ts"] == "1700000000.000100"
    [title] = world.bot.wait_calls("assistant.threads.setTitle")  # the assistant thread's title, from the request
    assert title.json_args["title"] == "Invoices"


def test_asking_in_a_mention_is_answered_to_the_asker_alone(world: World) -> None:
    answer = said(world, mention("what do we owe?"), "chat.postEphemeral")
    assert answer.json_args["channel"] == "C0PUBLIC" and answer.json_args["user"] == ANN
    assert "$1,750.50" in text_of(answer)
    wait_for_listeners(world.bot)
    assert [c for c in world.slack.calls("chat.postMessage") if c.json_args.get("channel") == "C0PUBLIC"] == []


def test_a_mention_from_a_slack_connect_channel_is_answered_ephemerally_too(world: World) -> None:
    event = mention("balance", channel="C0SHARED")
    body = json.loads(event_body(event))
    body["is_ext_shared_channel"] = True
    raw = json.dumps(body).encode()
    assert world.bot.post(raw, signed_headers(world.bot.signing_secret, raw)).status_code == 200
    [answer] = world.bot.wait_calls("chat.postEphemeral")
    assert answer.json_args["channel"] == "C0SHARED" and answer.json_args["user"] == ANN
    assert world.slack.calls("chat.postMessage") == []


def test_paying_an_invoice_starts_from_a_typed_message_and_charges_only_after_the_click(world: World) -> None:
    offer = said(world, dm("pay inv1"))
    [pay] = buttons(offer, "pay_open")
    assert json.loads(pay["value"]) == {"account": "acme", "invoice": "INV-1"}
    assert world.stripe.intents() == []  # nothing moves on text alone
    world.bot.click(
        button_action("pay_open", pay["value"]), channel_id=ANN_DM, message=(offer.response or {}).get("message")
    )
    view = world.bot.last_view(where=lambda v: v.get("callback_id") == "pay_modal")
    world.bot.submit(view, method=world.acme_card)
    world.bot.last_view(where=lambda v: v.get("title", {}).get("text") == "Payment received")
    [charge] = world.stripe.succeeded_charges()
    assert charge["amount"] == 125000 and charge["customer"] == world.acme_customer


def test_an_ambiguous_invoice_is_asked_back_with_a_pay_button_for_each(world: World) -> None:
    answer = said(world, dm("pay INV"))
    assert "Which one: INV-1 or INV-2?" in text_of(answer)
    assert [json.loads(b["value"])["invoice"] for b in buttons(answer, "pay_open")] == ["INV-1", "INV-2"]
    unknown = said(world, dm("pay INV-99"))
    assert "couldn't find an open invoice “INV-99”" in text_of(unknown) and buttons(unknown, "pay_open")


def test_pay_everything_offers_the_full_balance_button_and_pay_an_amount_follows_the_command(world: World) -> None:
    everything = said(world, dm("pay everything"))
    assert any(json.loads(b["value"]) == {"account": "acme", "balance": True} for b in buttons(everything, "pay_open"))
    amount = said(world, dm("pay 999"))
    assert "whole invoice or the full open balance" in text_of(amount)
    assert world.stripe.intents() == []


def test_someone_who_is_no_contact_typing_in_the_dm_is_refused_politely(world: World) -> None:
    answer = said(world, dm("what do I owe?", user=STRANGER))
    assert answer.json_args["channel"] == f"D{STRANGER}"
    assert SUPPORT_EMAIL in text_of(answer)
    assert "Acme" not in text_of(answer) and "$" not in text_of(answer)


def test_gibberish_gets_three_suggestions_and_a_second_miss_offers_billing_support(world: World) -> None:
    said(world, dm("help"))
    first = said(world, dm("blorp zork"))
    assert "didn't catch that" in text_of(first) and "pay INV-1" in text_of(first)
    assert buttons(first, "support_open") == []
    second = said(world, dm("flibber"))
    assert "didn't catch that" in text_of(second)
    [support] = buttons(second, "support_open")
    assert json.loads(support["value"])["account"] == "acme"


def test_a_card_number_typed_in_the_dm_gets_the_warning_and_is_never_echoed_or_stored(world: World) -> None:
    answer = said(world, dm(f"please charge my card {CARD} exp 12/30"))
    assert "card number" in text_of(answer).lower()
    wait_for_listeners(world.bot)
    everything = json.dumps([c.json_args for c in world.slack.calls()])
    assert CARD not in everything and "4242424242424242" not in everything
    with world.bot.db.read() as session:
        stored = json.dumps([str(r.detail) for r in session.scalars(select(AuditEventRecord))])
        stored += json.dumps([r.message for r in session.scalars(select(EscalationRecord))])
    assert "4242 4242" not in stored and "4242424242424242" not in stored


def test_a_reply_in_a_reminders_thread_is_about_that_reminders_invoices(world: World) -> None:
    world.bot.services.reminders.run_sweep(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    reminders = [c for c in world.slack.calls("chat.postMessage") if c.json_args.get("channel") in (ANN, ANN_DM)]
    assert reminders, "no reminder DM"
    reminder = reminders[0]
    numbers = [json.loads(b["value"])["invoice"] for b in buttons(reminder, "pay_open")]
    ts = str((reminder.response or {})["ts"])
    pay_it = said(world, dm("pay it", thread_ts=ts))
    assert pay_it.json_args["thread_ts"] == ts
    assert [json.loads(b["value"])["invoice"] for b in buttons(pay_it, "pay_open")] == numbers
    already = said(world, dm("I already paid this", thread_ts=ts))
    assert [json.loads(b["value"])["invoice"] for b in buttons(already, "reminder_already_paid")] == numbers
    assert world.stripe.intents() == []


def test_bot_messages_edits_deletions_and_the_apps_own_messages_are_ignored(world: World) -> None:
    ignored = [
        dm("what do I owe?", bot_id="B0OTHER"),
        dm("what do I owe?", subtype="bot_message"),
        {**dm("what do I owe?"), "subtype": "message_changed", "message": {"text": "balance", "user": ANN}},
        edited(dm("what do I owe?", bot_id="B0OTHER"), "balance"),  # a bot's message edited
        edited(dm("what do I owe?", user="UBOT"), "balance"),  # the app's own message edited
        edited(dm("what do I owe?"), "balance", by="U0SOMEONE"),  # an edit by someone else
        {**dm(""), "subtype": "message_deleted", "previous_message": {"text": "balance", "user": ANN}},
        dm("what do I owe?", user="UBOT"),
        {**dm("what do I owe?", thread_ts="1700000000.000900"), "subtype": "message_changed"},
        dm("what do I owe?", thread_ts="1700000000.000900", bot_id="B0OTHER"),
    ]
    for event in ignored:
        assert world.bot.event(event).status_code == 200
    time.sleep(0.3)
    wait_for_listeners(world.bot)
    assert world.slack.calls("chat.postMessage") == []


def test_a_retried_event_is_answered_once(world: World) -> None:
    event = dm("balance")
    body = event_body(event, event_id="EvRETRY00001")
    for retry in ("", "1", "2"):
        headers = signed_headers(world.bot.signing_secret, body)
        if retry:
            headers |= {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert world.bot.post(body, headers).status_code == 200
    world.bot.event(event)  # the same message under another event id
    world.bot.wait_calls("chat.postMessage")
    time.sleep(0.3)
    wait_for_listeners(world.bot)
    assert len(world.slack.calls("chat.postMessage")) == 1


def nothing_more_said(world: World, before: int) -> None:
    time.sleep(0.3)
    wait_for_listeners(world.bot)
    assert len(world.slack.calls("chat.postMessage")) == before


def test_an_edit_of_a_message_that_never_got_a_reply_is_answered_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = dm("what do i ow")  # arrived while the bot was down: never delivered, never answered
    edit = edited(lost, "what do I owe?")
    answer = said(world, edit)
    assert answer.json_args["channel"] == ANN_DM and answer.json_args.get("thread_ts") is None
    assert "$1,750.50" in text_of(answer)
    body = event_body(edit, event_id="EvEDIT000001")
    for retry in ("1", "2"):  # Slack's retries of the same edit
        headers = signed_headers(world.bot.signing_secret, body) | {"X-Slack-Retry-Num": retry}
        assert world.bot.post(body, headers).status_code == 200
    monkeypatch.setattr(chat_listeners, "_SEEN", SeenEvents())  # as a replica that saw none of it would
    world.bot.event(edit)  # the same edit delivered again under another event id
    world.bot.event(edited(lost, "show my invoices"))  # edited once more: it has its answer now
    world.bot.event(lost)  # the original, delivered late
    nothing_more_said(world, 1)


def test_an_edit_of_an_answered_message_gets_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    original = dm("what do I owe?")
    said(world, original)
    world.bot.event(edited(original, "show my invoices"))
    monkeypatch.setattr(chat_listeners, "_SEEN", SeenEvents())  # another replica: only the database knows
    world.bot.event(edited(original, "pay everything"))
    nothing_more_said(world, 1)


def test_an_edit_in_an_assistant_thread_of_a_message_never_answered_is_answered_in_that_thread(world: World) -> None:
    lost = dm("balnce?", thread_ts="1700000002.000300")
    answer = said(world, edited(lost, "balance?"))
    assert answer.json_args["channel"] == ANN_DM and answer.json_args["thread_ts"] == "1700000002.000300"
    assert "$1,750.50" in text_of(answer)


def test_a_new_assistant_thread_is_greeted_with_prompts_that_fit_the_persons_state(world: World) -> None:
    thread = {
        "user_id": ANN,
        "channel_id": ANN_DM,
        "thread_ts": "1700000001.000200",
        "context": {"channel_id": "C0PUBLIC", "team_id": "T111"},
    }
    world.bot.event({"type": "assistant_thread_started", "assistant_thread": thread, "event_ts": next_ts()})
    [greeting] = world.bot.wait_calls("chat.postMessage")
    assert greeting.json_args["channel"] == ANN_DM and greeting.json_args["thread_ts"] == "1700000001.000200"
    assert "Hi Ann" in text_of(greeting)
    [prompts] = world.bot.wait_calls("assistant.threads.setSuggestedPrompts")
    titles = [p["title"] for p in prompts.json_args["prompts"]]
    assert titles[0] == "Pay INV-1"  # overdue since October
    assert "Payment history" in titles and "My cards" in titles and len(titles) <= 4
    context_changed = {"type": "assistant_thread_context_changed", "assistant_thread": thread, "event_ts": next_ts()}
    assert world.bot.event(context_changed).status_code == 200


def test_a_new_assistant_thread_of_someone_who_is_no_contact_shows_no_account_data(world: World) -> None:
    thread = {"user_id": STRANGER, "channel_id": f"D{STRANGER}", "thread_ts": "1700000002.000300"}
    world.bot.event({"type": "assistant_thread_started", "assistant_thread": thread, "event_ts": next_ts()})
    [greeting] = world.bot.wait_calls("chat.postMessage")
    assert SUPPORT_EMAIL in text_of(greeting) and "Acme" not in text_of(greeting)


def test_naming_a_card_offers_its_own_buttons_and_changes_nothing_until_clicked(world: World) -> None:
    answer = said(world, dm("remove the card ending 4242"))
    [remove] = buttons(answer, "method_remove")
    assert json.loads(remove["value"]) == {"account": "acme", "method": world.acme_card}
    assert remove.get("confirm")  # the same "Remove this card?" confirmation as the cards screen
    cards = world.bot.services.require_payments().methods.list(ANN_ACTOR, "acme")
    assert [card.id for card in cards] == [world.acme_card]
    already = said(world, dm("make my visa the default"))
    assert "already the default" in text_of(already)


def test_switching_account_by_a_misspelt_name_switches_it(world: World) -> None:
    answer = said(world, dm("swtich to globx"))
    assert "Switched to Globex" in text_of(answer)
    assert world.bot.services.accounts.caller(ANN_ACTOR).active.external_id == "globex"


def test_asking_for_a_person_shows_billing_support_with_its_button_and_sends_nothing_by_itself(world: World) -> None:
    answer = said(world, dm("can I talk to a human please"))
    assert buttons(answer, "support_open")
    with world.bot.db.read() as session:
        assert list(session.scalars(select(EscalationRecord))) == []


def test_a_person_from_another_organization_mentioning_the_app_must_prove_their_email_first(world: World) -> None:
    world.slack.add_user("W0EXT1", "ann@acme.test", "Ann Elsewhere", team_id="T0OTHER")
    try:
        event = mention("what do we owe?", user="W0EXT1", channel="C0SHARED")
        body = json.loads(event_body(event))
        body["is_ext_shared_channel"] = True
        raw = json.dumps(body).encode()
        assert world.bot.post(raw, signed_headers(world.bot.signing_secret, raw)).status_code == 200
        [answer] = world.bot.wait_calls("chat.postEphemeral")
        assert answer.json_args["user"] == "W0EXT1" and answer.json_args["channel"] == "C0SHARED"
        assert "verification code" in text_of(answer)  # the same e-mail proof as /billing asks of them
        assert "$1,750.50" not in text_of(answer) and "INV-1" not in text_of(answer)
        assert world.slack.calls("chat.postMessage") == []
    finally:
        world.slack.remove_user("W0EXT1")


def test_a_new_assistant_thread_of_someone_whose_card_expires_soon_suggests_adding_a_card(world: World) -> None:
    with world.bot.db.transaction() as session:
        session.execute(update(PaymentMethodRecord).values(exp_month=12, exp_year=2026))  # the clock: Nov 2026
    thread = {"user_id": ANN, "channel_id": ANN_DM, "thread_ts": "1700000003.000400"}
    world.bot.event({"type": "assistant_thread_started", "assistant_thread": thread, "event_ts": next_ts()})
    [prompts] = world.bot.wait_calls("assistant.threads.setSuggestedPrompts")
    assert {"title": "Add a card", "message": "add a card"} in prompts.json_args["prompts"]


def test_a_card_number_in_a_mention_gets_the_warning_to_the_asker_alone_and_is_not_echoed(world: World) -> None:
    answer = said(world, mention(f"pay with {CARD}"), "chat.postEphemeral")
    assert answer.json_args["user"] == ANN and "card number" in text_of(answer).lower()
    wait_for_listeners(world.bot)
    assert CARD not in json.dumps([c.json_args for c in world.slack.calls()])
    assert world.slack.calls("chat.postMessage") == []


def test_turn_on_autopay_typed_in_the_dm_answers_with_the_confirmation_and_changes_nothing(world: World) -> None:
    answer = said(world, dm("please turn on autopay"))
    text = text_of(answer)
    assert "Open invoices will be charged in full on their due date" in text and "Acme Corp" in text
    assert world.bot.services.autopay is not None
    assert not world.bot.services.autopay.status(ANN_ACTOR, "acme").enabled  # only the confirmation's click
