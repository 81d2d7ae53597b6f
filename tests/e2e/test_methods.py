"""Payment methods over signed HTTP: make default, remove (confirmed), add through the hosted page."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import select, update

from billing_core.db.tables import CardSetupRecord, PaymentMethodRecord
from devtools.loopback.slack_signing import stripe_signed_headers
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, ANN_ACTOR, WEBHOOK_SECRET


def second_card(world: World) -> str:
    card = world.stripe.card(world.acme_customer, "4000056655665556")
    world.bot.services.require_payments().methods.list(ANN_ACTOR, "acme", refresh=True)
    return card


def test_make_default_changes_the_default_card_in_stripe_and_refreshes_the_list(world: World) -> None:
    card = second_card(world)
    _, url = world.bot.press("method_make_default", {"account": "acme", "method": card})
    reply = world.bot.replies(url)[0]
    assert reply["replace_original"] is True and reply["response_type"] == "ephemeral"
    assert "now the default" in json.dumps(reply)
    assert world.stripe.default_card(world.acme_customer) == card
    world.bot.wait_calls("views.publish", where=lambda c: c.json_args.get("user_id") == ANN)


def test_remove_detaches_the_card_in_stripe(world: World) -> None:
    card = second_card(world)
    _, url = world.bot.press("method_remove", {"account": "acme", "method": card})
    assert "card was removed" in world.bot.reply_text(url)
    assert card not in world.stripe.card_ids(world.acme_customer)


def test_the_only_card_is_not_removed_while_invoices_are_open(world: World) -> None:
    _, url = world.bot.press("method_remove", {"account": "acme", "method": world.acme_card})
    assert "only card" in world.bot.reply_text(url)
    assert world.acme_card in world.stripe.card_ids(world.acme_customer)


def test_add_card_gives_the_hosted_link_and_a_dm_once_the_webhook_arrives(world: World) -> None:
    _, url = world.bot.press("add_card", {"account": "acme"})
    reply = world.bot.replies(url)[0]
    link = next(e for b in reply["blocks"] for e in b.get("elements", []) if e.get("url"))
    assert link["url"].startswith("https://checkout.stripe.test/")
    assert reply["replace_original"] is False
    session_id = link["url"].rsplit("/", 1)[-1]
    world.stripe.card(world.acme_customer, "5555555555554444")
    event = {
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "mode": "setup",
                "customer": world.acme_customer,
                "status": "complete",
            }
        },
    }
    payload = json.dumps(event).encode()
    headers = stripe_signed_headers(WEBHOOK_SECRET, payload)
    answer = world.bot.http.post("/stripe/webhook", content=payload, headers=headers)
    assert answer.status_code == 200
    [dm] = world.bot.wait_calls("chat.postMessage")
    assert dm.json_args["channel"] == f"D{ANN}" and "was added to Acme Corp" in json.dumps(dm.json_args)


def test_add_a_new_card_from_the_pay_modal_pushes_the_link_on_top(world: World) -> None:
    world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})
    modal = world.bot.last_view(where=lambda v: v.get("callback_id") == "pay_modal")
    world.bot.press("add_card", {"account": "acme"}, view={"id": modal["id"], "type": "modal"})
    world.bot.wait_calls("views.push")
    pushed = world.bot.last_view(where=lambda v: "checkout.stripe.test" in json.dumps(v))
    assert "Add a card securely" in json.dumps(pushed)


def post_event(world: World, event: dict[str, object]) -> None:
    payload = json.dumps(event).encode()
    headers = stripe_signed_headers(WEBHOOK_SECRET, payload)
    answer = world.bot.http.post("/stripe/webhook", content=payload, headers=headers)
    assert answer.status_code == 200


def test_the_hosted_add_card_page_lives_an_hour_and_its_expiry_closes_the_card_setup(world: World) -> None:
    _, url = world.bot.press("add_card", {"account": "acme"})
    reply = world.bot.replies(url)[0]
    link = next(e for b in reply["blocks"] for e in b.get("elements", []) if e.get("url"))
    session_id = link["url"].rsplit("/", 1)[-1]
    session = world.proxy.strict.checkout_sessions[session_id]
    assert 3500 <= session["expires_at"] - time.time() <= 3700  # an hour, not Stripe's default day
    post_event(world, world.proxy.event("checkout.session.expired", {**session, "status": "expired"}))
    with world.bot.db.read() as db:
        assert db.scalar(select(CardSetupRecord.status).where(CardSetupRecord.checkout_session_id == session_id)) == (
            "expired"
        )
    # A completion arriving after that changes nothing and tells no one.
    post_event(world, world.proxy.event("checkout.session.completed", {**session, "status": "complete"}))
    assert world.slack.calls("chat.postMessage") == []


def test_a_card_the_network_renewed_is_re_read_from_stripe(world: World) -> None:
    with world.bot.db.transaction() as db:
        db.execute(update(PaymentMethodRecord).values(exp_year=2026, exp_month=12))  # the copy is behind
    card = world.stripe.client.v1.payment_methods.retrieve(world.acme_card).to_dict()
    post_event(world, world.proxy.event("payment_method.automatically_updated", card))
    [cached] = world.bot.services.require_payments().methods.list(ANN_ACTOR, "acme")
    assert (cached.exp_month, cached.exp_year) == (12, 2031)
