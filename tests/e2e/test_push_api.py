"""The push API (/api/v1) over HTTP into the running bot: what the vendor's systems send, and what
the billing contacts then see in Slack (issue 27, item 1)."""

from __future__ import annotations

import functools
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from billing_core.db.tables import InvoicePaidElsewhereRecord, InvoiceRecord, OutboundEventRecord, PaymentRecord
from devtools.loopback.slack_signing import stripe_signed_headers
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN_ACTOR, NEEDS_AUTHENTICATION, SAMPLE, WEBHOOK_SECRET
from tests.support.sample_accounts import invoice

TOKEN = "push-token-one"
OTHER_TOKEN = "push-token-two"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAID_WIRE = {"amount": 50050, "currency": "usd", "method": "wire", "reference": "WIRE-77", "paid_on": "2026-11-24"}


@pytest.fixture(scope="module")
def bot_overrides() -> dict[str, str]:
    return {
        "BILLING_API_TOKEN": f"{TOKEN}, {OTHER_TOKEN}",
        "OUTBOUND_WEBHOOK_URL": "http://127.0.0.1:9/erp",
        "OUTBOUND_WEBHOOK_SECRET": "whsec_books",
    }


def api(
    world: World, path: str, body: Any = None, *, headers: dict[str, str] | None = None, content: bytes | None = None
) -> httpx.Response:
    if content is None and body is not None:
        content = json.dumps(body).encode()
    return world.bot.http.post(f"/api/v1{path}", content=content or b"", headers=AUTH if headers is None else headers)


def said(world: World, text: str) -> str:
    _, url = world.bot.command(text)
    return world.bot.reply_text(url)


def status_of(world: World, number: str) -> str:
    with world.bot.db.read() as session:
        return session.scalars(select(InvoiceRecord.status).where(InvoiceRecord.number == number)).one()


# -- what a contact notices --------------------------------------------------------------------


def test_an_invoice_pushed_through_the_api_is_seen_by_its_contact_in_billing_invoices(world: World) -> None:
    pushed = invoice("INV-77", "2026-11-20", "2026-12-20", 4200, description="API-pushed support plan")
    answer = api(world, "/accounts/acme/invoices", {"invoices": [pushed]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"changed": True, "counts": {"accounts_unchanged": 1, "invoices_created": 1}}
    text = said(world, "invoices")
    assert "INV-77" in text and "$42.00" in text


def test_an_account_pushed_with_its_contact_lets_that_person_use_the_bot(world: World) -> None:
    body = {
        "accounts": [
            {
                "id": "acme",
                "name": "Acme Corp",
                "currency": "usd",
                "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}],
                "invoices": [invoice("INV-88", "2026-11-21", "2026-12-21", 1999)],
            }
        ]
    }
    assert api(world, "/accounts", body).status_code == 200
    assert "INV-88" in said(world, "invoices")


def test_an_invoice_reported_paid_elsewhere_is_closed_gets_no_reminder_and_no_autopay_charge(world: World) -> None:
    assert world.bot.services.autopay is not None and world.bot.services.payments is not None
    world.bot.services.autopay.turn_on(ANN_ACTOR, "acme")
    answer = api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] is True
    due_day = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    planned = world.bot.services.reminders.preview(due_day)
    assert all(line.invoice_number != "INV-2" for reminder in planned for line in reminder.lines)
    world.bot.clock.set(due_day)
    try:
        assert world.bot.services.require_payments().autopay_pass.run().summary() == "charged 0, declined 0, skipped 0"
    finally:
        world.bot.clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    with world.bot.db.read() as session:
        assert session.scalars(select(PaymentRecord)).all() == []


def test_its_contact_sees_it_paid_outside_slack_in_history_and_a_pay_click_answers_so(world: World) -> None:
    assert api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE).status_code == 200
    history = said(world, "history")
    assert "paid outside Slack" in history and "INV-2" in history and "24 Nov 2026" in history
    pay = said(world, "pay INV-2")
    assert "INV-2 was paid on 24 Nov outside Slack" in pay


def test_paid_elsewhere_reaches_the_books_as_an_event_and_not_as_an_exported_payment(world: World) -> None:
    assert api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE).status_code == 200
    with world.bot.db.read() as session:
        bodies = session.scalars(
            select(OutboundEventRecord.body).where(OutboundEventRecord.type == "invoice.paid_elsewhere")
        )
        [event] = [json.loads(body) for body in bodies]
        payments = session.scalars(select(PaymentRecord)).all()
    assert event["data"] == {
        "account_id": "acme",
        "invoice": "INV-2",
        "amount": 50050,
        "currency": "usd",
        "method": "wire",
        "reference": "WIRE-77",
        "paid_on": "2026-11-24",
    }
    assert payments == []  # `payments export` lists payment rows only


# -- idempotency --------------------------------------------------------------------------------


def test_the_same_paid_elsewhere_report_twice_changes_nothing_the_second_time(world: World) -> None:
    first = api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE)
    again = api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE)
    assert (first.json()["changed"], again.status_code, again.json()["changed"]) == (True, 200, False)
    with world.bot.db.read() as session:
        assert len(session.scalars(select(InvoicePaidElsewhereRecord)).all()) == 1
        assert (
            len(
                session.scalars(
                    select(OutboundEventRecord).where(OutboundEventRecord.type == "invoice.paid_elsewhere")
                ).all()
            )
            == 1
        )


def test_a_different_report_for_an_invoice_already_paid_elsewhere_is_409_and_changes_nothing(world: World) -> None:
    api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE)
    answer = api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE | {"reference": "OTHER"})
    assert answer.status_code == 409 and "INV-2" in answer.json()["error"]
    with world.bot.db.read() as session:
        assert session.scalars(select(InvoicePaidElsewhereRecord.reference)).all() == ["WIRE-77"]


def test_voiding_twice_is_applied_once_and_paid_elsewhere_on_a_void_invoice_is_409(world: World) -> None:
    assert api(world, "/accounts/acme/invoices/INV-2/void").json()["changed"] is True
    assert api(world, "/accounts/acme/invoices/INV-2/void").json()["changed"] is False
    assert status_of(world, "INV-2") == "void"
    assert api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE).status_code == 409
    assert "INV-2" not in said(world, "invoices")


def test_pushing_the_same_invoices_twice_reports_no_change_the_second_time(world: World) -> None:
    body = {"invoices": [invoice("INV-2", "2026-11-01", "2026-12-01", 50050, description="November usage")]}
    answer = api(world, "/accounts/acme/invoices", body)
    assert answer.json() == {"changed": False, "counts": {"accounts_unchanged": 1, "invoices_unchanged": 1}}


def test_contacts_are_added_without_removing_the_others(world: World) -> None:
    body = {"contacts": [{"email": "Bob@Acme.test", "name": "Bob"}]}
    assert api(world, "/accounts/acme/contacts", body).json() == {"changed": True, "counts": {"contacts_changed": 1}}
    assert api(world, "/accounts/acme/contacts", body).json()["changed"] is False
    assert "INV-1" in said(world, "invoices")  # Ann is still a contact


# -- auth, bad bodies, size ---------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"bearer {TOKEN}x", "Basic abc", f"Bearer  {TOKEN}"])
def test_a_request_without_the_right_bearer_token_is_401_and_changes_nothing(world: World, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    answer = api(world, "/accounts/acme/invoices/INV-2/void", headers=headers)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert status_of(world, "INV-2") == "open"


def test_every_token_of_the_comma_separated_list_is_accepted(world: World) -> None:
    answer = api(world, "/accounts/acme/invoices/INV-2/void", headers={"Authorization": f"Bearer {OTHER_TOKEN}"})
    assert answer.status_code == 200


def test_a_bad_body_is_422_naming_each_field_path_and_changes_nothing(world: World) -> None:
    body = {
        "invoices": [
            invoice("INV-9", "2026-11-01", "2026-10-01", 100),
            {
                "number": "INV-10",
                "issued_on": "2026-11-01",
                "due_on": "2026-12-01",
                "amount_due": 1.5,
                "currency": "eur",
                "status": "open",
            },
        ]
    }
    answer = api(world, "/accounts/acme/invoices", body)
    assert answer.status_code == 422
    problems = {p["path"]: p["message"] for p in answer.json()["problems"]}
    assert set(problems) == {"invoices[0].due_on", "invoices[1].amount_due", "invoices[1].currency"}
    assert "before the issue date" in problems["invoices[0].due_on"]
    assert "INV-9" not in said(world, "invoices")


def test_a_bad_paid_elsewhere_report_names_its_fields(world: World) -> None:
    answer = api(
        world,
        "/accounts/acme/invoices/INV-2/paid-elsewhere",
        {"amount": -1, "currency": "usd", "method": "", "paid_on": "24/11/2026", "extra": 1},
    )
    paths = sorted(p["path"] for p in answer.json()["problems"])
    assert answer.status_code == 422 and paths == ["amount", "extra", "method", "paid_on"]
    wrong_currency = api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE | {"currency": "eur"})
    assert wrong_currency.status_code == 422 and wrong_currency.json()["problems"][0]["path"] == "currency"
    assert status_of(world, "INV-2") == "open"


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b""])
def test_a_body_that_is_not_json_is_400(world: World, content: bytes) -> None:
    answer = api(world, "/accounts", content=content)
    assert answer.status_code in (400, 422) and answer.json()["error"]


def test_an_unknown_account_or_invoice_is_404_naming_which(world: World) -> None:
    assert api(world, "/accounts/nope/invoices/INV-2/void").json()["problems"][0]["path"] == "account_id"
    answer = api(world, "/accounts/acme/invoices/NOPE/void")
    assert answer.status_code == 404 and answer.json()["problems"][0]["path"] == "number"


def test_a_body_over_the_cap_is_413_before_it_is_read(world: World) -> None:
    answer = api(world, "/accounts", content=b" " * 1_000_001)
    assert answer.status_code == 413


def test_the_wrong_method_is_405_and_an_unknown_path_404(world: World) -> None:
    assert world.bot.http.get("/api/v1/accounts", headers=AUTH).status_code == 405
    assert world.bot.http.post("/api/v1/nothing", headers=AUTH).status_code == 404


# -- the document -------------------------------------------------------------------------------


def test_the_openapi_document_describes_every_route_with_the_import_models(world: World) -> None:
    document = world.bot.http.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/accounts",
        "/api/v1/accounts/{account_id}/invoices",
        "/api/v1/accounts/{account_id}/contacts",
        "/api/v1/accounts/{account_id}/invoices/{number}/void",
        "/api/v1/accounts/{account_id}/invoices/{number}/paid-elsewhere",
    }
    schemas = document["components"]["schemas"]
    assert {"AccountIn", "InvoiceIn", "ContactIn", "PaidElsewhereIn", "ErrorOut"} <= set(schemas)
    assert schemas["InvoiceIn"]["properties"]["status"]["enum"] == ["open", "paid", "void"]


# -- concurrency with the Stripe webhook and the import -------------------------------------------


def test_pushes_the_stripe_webhook_and_an_import_at_once_each_take_effect_once_and_never_fail(world: World) -> None:
    payments, methods = world.bot.services.require_payments().service, world.bot.services.require_payments().methods
    assert payments is not None and methods is not None
    card = world.stripe.card(world.acme_customer, NEEDS_AUTHENTICATION)
    methods.list(ANN_ACTOR, "acme", refresh=True)
    waiting = payments.pay(ANN_ACTOR, "acme", card, invoice_number="INV-1")
    assert waiting.status == "requires_action"
    [intent] = world.stripe.intents()
    settled = world.stripe.server.authenticate_payment_intent(intent["id"], intent["client_secret"])
    event = {
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": settled},
    }
    payload = json.dumps(event).encode()

    def webhook() -> int:
        headers = stripe_signed_headers(WEBHOOK_SECRET, payload)
        return world.bot.http.post("/stripe/webhook", content=payload, headers=headers).status_code

    def pushed(n: int) -> int:
        body = {"invoices": [invoice(f"INV-P{n}", "2026-11-20", "2026-12-20", 1000 + n)]}
        return api(world, "/accounts/acme/invoices", body).status_code

    def imported() -> int:
        world.bot.services.importer.run(SAMPLE)
        return 200

    def reported() -> int:
        return api(world, "/accounts/acme/invoices/INV-2/paid-elsewhere", PAID_WIRE).status_code

    work = [webhook, webhook, imported, imported, reported, reported, *[functools.partial(pushed, n) for n in range(6)]]
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        statuses = list(pool.map(lambda job: job(), work))
    assert all(status == 200 for status in statuses), statuses
    assert len(world.stripe.succeeded_charges()) == 1
    with world.bot.db.read() as session:
        rows = dict(
            session.execute(
                select(InvoiceRecord.number, InvoiceRecord.closed_as).where(InvoiceRecord.status == "paid")
            ).all()
        )
        reports = session.scalars(select(InvoicePaidElsewhereRecord.reference)).all()
    assert rows["INV-1"] is None and rows["INV-2"] == "paid_elsewhere"  # paid here; paid by wire
    assert reports == ["WIRE-77"]
    text = said(world, "invoices")
    assert all(f"INV-P{n}" in text for n in range(6))
