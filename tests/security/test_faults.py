"""Threat 5: faults in what the bot depends on. A fault proxy (tests/support/fault_proxy.py) sits in
front of localstripe, the Slack Web API stand-in and the SMTP sink; the database is pointed at a
dead port; the ``billing-bot`` process is killed with SIGKILL mid-payment and mid-sweep.

| fault                               | must happen                                        |
|-------------------------------------|----------------------------------------------------|
| Stripe 5xx, resets, lost answers    | the payment is reconciled, never doubled           |
| database unavailable                | a polite "try again" to the user, /healthz 503     |
| mail server down                    | the escalation is delivered later, once            |
| Slack 429 / 5xx / reset             | the call is retried                                |
| kill -9 during payment / sweep      | after restart (reconcile / next sweep) nothing is lost or doubled |
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, EscalationRecord, PaymentRecord
from bot.compose import build_services
from bot.settings import Settings
from bot.slack.client import make_web_client
from devtools.loopback.slack_api import SlackAPI
from tests.support import cli
from tests.support.bot_fixtures import World
from tests.support.bot_harness import (
    ANN,
    ANN_ACTOR,
    SAMPLE,
    BotServer,
    StripeHelper,
    wait_for_listeners,
    wait_until,
)
from tests.support.fault_proxy import FaultProxy
from tests.support.localstripe_server import LocalStripe, free_port
from tests.support.serve_process import (
    BOT,
    pay_invoice_body,
    prepare_sample_database,
    serve_env,
    start_serve,
)
from tests.support.smtp_sink import SmtpSink
from tests.support.stripe_proxy import StripeProxy
from tests.support.template_db import migrated_sqlite_url

PAY_INTENT = "POST /v1/payment_intents"


# -- Stripe behind the fault proxy (the e2e bot, in-process) ------------------------------------


@pytest.fixture(scope="module")
def stripe_faults(stripe_proxy: StripeProxy) -> Iterator[FaultProxy]:
    with FaultProxy.for_url(stripe_proxy.base_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def server(slack: SlackAPI, stripe_faults: FaultProxy, module_database_url: str) -> Iterator[BotServer]:
    """The e2e bot, talking to Stripe through the fault proxy."""
    with BotServer(slack, stripe_faults.root_url, module_database_url) as bot:
        yield bot


@pytest.fixture
def faults(stripe_faults: FaultProxy) -> Iterator[FaultProxy]:
    stripe_faults.clear()
    yield stripe_faults
    stripe_faults.clear()


def pay_inv1(world: World) -> None:
    view = {"id": "V_FAULT", "callback_id": "pay_modal"}
    response = world.bot.submit(
        view, method=world.acme_card, metadata=json.dumps({"account": "acme", "invoice": "INV-1"})
    )
    assert response.status_code == 200
    wait_for_listeners(world.bot, timeout=40)


def payments(db: Database) -> list[tuple[str, int]]:
    with db.read() as session:
        return [(p.status, p.amount_minor) for p in session.scalars(select(PaymentRecord))]


def charged(world: World) -> list[int]:
    return [pi["amount"] for pi in world.stripe.succeeded_charges()]


STRIPE_FAULTS = {
    "5xx before Stripe saw it": dict(kind="answer", forward_first=False),
    "5xx after Stripe charged": dict(kind="answer", forward_first=True),
    "connection reset before Stripe saw it": dict(kind="reset", forward_first=False),
    "connection reset after Stripe charged": dict(kind="reset", forward_first=True),
    "answer lost (timeout) after Stripe charged": dict(kind="blackhole", forward_first=True),
}


def inject(world: World, faults: FaultProxy, fault: str) -> dict[str, object]:
    """Arm ``fault`` for the next charge (a blackhole is armed by the test itself)."""
    spec = STRIPE_FAULTS[fault]
    world.bot.clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    if spec["kind"] == "answer":
        faults.answer(503, match=PAY_INTENT, forward_first=bool(spec["forward_first"]))
    elif spec["kind"] == "reset":
        faults.reset(match=PAY_INTENT, forward_first=bool(spec["forward_first"]))
    return spec


@pytest.mark.parametrize("fault", list(STRIPE_FAULTS), ids=list(STRIPE_FAULTS))
def test_a_stripe_fault_while_charging_is_reconciled_and_never_charged_twice(
    world: World, faults: FaultProxy, fault: str
) -> None:
    spec = inject(world, faults, fault)
    if spec["kind"] == "blackhole":
        faults.blackhole(match=PAY_INTENT, forward_first=True)
        world.bot.submit(
            {"id": "V_FAULT", "callback_id": "pay_modal"},
            method=world.acme_card,
            metadata=json.dumps({"account": "acme", "invoice": "INV-1"}),
        )
        faults.wait_seen(PAY_INTENT)
        wait_until(lambda: len(world.stripe.intents()) == 1, 10, "Stripe to have the charge")
        faults.release()  # the bot's request dies without an answer, like a read timeout
        wait_for_listeners(world.bot, timeout=40)
    if spec["kind"] != "blackhole":
        pay_inv1(world)

    stripe_acted = bool(spec["forward_first"])
    assert charged(world) == ([125000] if stripe_acted else [])
    assert [status for status, _ in payments(world.bot.db)] != ["succeeded"] or stripe_acted
    # The person is told it is being checked, never "declined" for an unknown outcome.
    told = json.dumps([c.json_args for c in world.slack.calls() if c.method in ("views.update", "chat.postMessage")])
    assert "declined" not in told.lower()

    # Reconcile (the scheduler job / ``billing-bot payments reconcile``), an hour later: within
    # Stripe's idempotency window it replays the create with the payment's key, so Stripe answers
    # with the first result, or (the request never arrived) makes it now: one charge either way.
    world.bot.clock.set(world.bot.clock.now() + timedelta(hours=1))
    world.bot.services.require_payments().service.reconcile()
    world.bot.services.require_payments().service.reconcile()

    assert charged(world) == [125000]
    invoice = world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-1")
    assert invoice.status == "paid"
    assert [s for s, _ in payments(world.bot.db)].count("succeeded") == 1
    assert not invoice.payment_in_progress


@pytest.mark.parametrize("fault", ["5xx before Stripe saw it", "connection reset before Stripe saw it"])
def test_a_charge_stripe_never_saw_is_failed_after_stripes_idempotency_window_and_payable_again(
    world: World, faults: FaultProxy, fault: str
) -> None:
    inject(world, faults, fault)
    pay_inv1(world)
    world.bot.clock.set(world.bot.clock.now() + timedelta(hours=25))  # Stripe has forgotten the key
    world.bot.services.require_payments().service.reconcile()

    assert charged(world) == []
    invoice = world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-1")
    assert invoice.status == "open" and not invoice.payment_in_progress
    world.slack.clear()
    pay_inv1(world)  # the invoice is payable again, and then charged exactly once
    assert charged(world) == [125000]
    assert world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-1").status == "paid"


# -- the database goes away --------------------------------------------------------------------


@pytest.fixture
def dead_database_bot(slack: SlackAPI, stripe_proxy: StripeProxy) -> Iterator[BotServer]:
    url = f"postgresql+psycopg://billing:billing@127.0.0.1:{free_port()}/nowhere"
    with BotServer(slack, stripe_proxy.base_url, url) as bot:
        yield bot


def test_with_the_database_down_slack_hears_a_polite_try_again_and_healthz_is_503(
    dead_database_bot: BotServer, slack: SlackAPI
) -> None:
    slack.clear()
    response, url = dead_database_bot.command("balance", user=ANN)
    assert response.status_code == 200
    assert "Traceback" not in response.text
    text = dead_database_bot.reply_text(url)
    assert "try again" in text.lower()
    assert "sqlalchemy" not in text.lower() and "psycopg" not in text.lower()

    health = dead_database_bot.http.get("/healthz")
    assert health.status_code == 503
    assert health.json()["status"] != "ok"


def test_with_the_database_down_a_known_persons_next_command_also_hears_try_again(
    dead_database_bot: BotServer, slack: SlackAPI
) -> None:
    slack.clear()
    dead_database_bot.command("balance", user=ANN)  # Slack told us who this is: cached from now on
    response, url = dead_database_bot.command("balance", user=ANN)
    assert response.status_code == 200
    assert "Traceback" not in response.text
    text = dead_database_bot.reply_text(url)
    assert "try again" in text.lower()
    assert "sqlalchemy" not in text.lower() and "psycopg" not in text.lower()


# -- the mail server goes away -------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def test_with_the_mail_server_down_the_escalation_is_delivered_later_once(
    database_url: str, db: Database, smtp: SmtpSink
) -> None:
    with FaultProxy.for_url(smtp.url, http=False) as mail:
        settings = Settings(
            _env_file=None,
            DATABASE_URL=database_url,
            SMTP_URL=f"smtp://127.0.0.1:{mail.port}",
            SUPPORT_EMAIL="help@vendor.test",
            SMTP_FROM="billing-bot@vendor.test",
        )
        clock = FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
        services = build_services(settings, clock=clock, db=db)
        services.importer.run(SAMPLE)
        mail.reset(count=None)  # every connection to the mail server is dropped

        created = services.escalations.create(ANN_ACTOR, "acme", "other", "Please call me about INV-1.")
        first = services.escalations.outbox.deliver_due(clock.now())
        assert smtp.messages == []
        assert first.sent == 0

        mail.clear()  # the mail server is back
        clock.set(clock.now() + timedelta(hours=2))
        services.escalations.outbox.deliver_due(clock.now())
        services.escalations.outbox.deliver_due(clock.now() + timedelta(hours=1))

        [message] = smtp.messages
        assert created.reference in str(message["Subject"])
        with db.read() as session:
            record = session.scalars(select(EscalationRecord)).one()
            assert record.delivery_status == "sent" and record.attempts == 2


# -- Slack answers 429, 5xx, or drops the connection --------------------------------------------


@pytest.fixture
def slack_faults(slack: SlackAPI) -> Iterator[FaultProxy]:
    with FaultProxy.for_url(slack.base_url) as proxy:
        yield proxy


def test_a_slack_429_is_retried_after_retry_after_and_the_message_goes_out_once(
    slack: SlackAPI, slack_faults: FaultProxy
) -> None:
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-faults",
        SLACK_API_URL=slack_faults.url("/api/"),
    )
    client = make_web_client(settings)
    slack.clear()
    slack.fail_next("chat.postMessage", status=429, retry_after=1)

    answer = client.chat_postMessage(channel="D111", text="Your receipt")

    assert answer["ok"] is True
    assert len([c for c in slack.calls("chat.postMessage") if c.ok]) == 1
    assert len(slack_faults.seen("chat.postMessage")) == 2  # the refused try and the retry


@pytest.mark.parametrize("fault", ["503", "500", "reset"])
def test_a_message_is_never_posted_again_after_a_5xx_or_a_reset_it_may_have_survived(
    slack: SlackAPI, slack_faults: FaultProxy, fault: str
) -> None:
    # Slack may have posted it before the 5xx or the reset (issue 28): a second POST could post it
    # twice. The caller hears of the failure; DMs that must arrive go through the outbox, which
    # looks for the message by its metadata before trying again (bot/slack/notices.py).
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-faults",
        SLACK_API_URL=slack_faults.url("/api/"),
    )
    client = make_web_client(settings)
    slack.clear()
    if fault == "reset":
        slack_faults.reset(match="chat.postMessage")
    else:
        slack_faults.answer(int(fault), match="chat.postMessage")

    with pytest.raises((SlackApiError, OSError)):
        client.chat_postMessage(channel="D111", text="Your receipt")

    assert len(slack_faults.seen("chat.postMessage")) == 1  # one try, no blind second POST


# -- kill -9 of the process ------------------------------------------------------------------------


@pytest.fixture
def prepared_db(tmp_path: Path, postgres_server_url: str | None, localstripe_server: LocalStripe) -> str:
    """A migrated database with the sample accounts; Acme has a Stripe customer with a default Visa."""
    url = postgres_server_url or f"sqlite:///{tmp_path / 'killed.db'}"
    prepare_sample_database(url, localstripe_server)
    return url


@pytest.mark.process
def test_kill_9_during_a_payment_then_reconcile_leaves_one_charge_and_a_paid_invoice(
    tmp_path: Path, prepared_db: str, slack: SlackAPI, localstripe_server: LocalStripe
) -> None:
    helper = StripeHelper(localstripe_server)
    with FaultProxy.for_url(localstripe_server.base_url) as stripe_faults:
        # Stripe takes the charge, but its answer never comes back while the process lives.
        stripe_faults.blackhole(match=PAY_INTENT, forward_first=True)
        process = start_serve(serve_env(prepared_db, slack.base_url, stripe_faults.root_url), tmp_path)
        try:
            card = helper.default_card(_acme_customer(prepared_db))
            answer = process.post_slack(pay_invoice_body(str(card), view_id="V_KILL"), timeout=5)
            assert answer.status_code == 200
            stripe_faults.wait_seen(PAY_INTENT, timeout=20)
            wait_until(lambda: len(helper.intents()) == 1, 10, "Stripe to have the charge")
        finally:
            process.kill()

    database = Database(prepared_db)
    assert [status for status, _ in payments(database)] == ["pending"]  # committed before Stripe was called

    env = serve_env(prepared_db, slack.base_url, localstripe_server.base_url)
    for _ in range(2):  # the scheduler's job as its command runs it (in this process: no kill needed here)
        reconcile = cli.run_cli("payments", "reconcile", env=env, cwd=tmp_path)
        assert reconcile.returncode == 0, reconcile.stderr

    assert [(pi["amount"], pi["status"]) for pi in helper.intents()] == [(125000, "succeeded")]
    assert payments(database) == [("succeeded", 125000)]
    settings = Settings(_env_file=None, DATABASE_URL=prepared_db)
    assert build_services(settings, db=database).accounts.invoice(ANN_ACTOR, "acme", "INV-1").status == "paid"
    database.dispose()


def _acme_customer(url: str) -> str:
    database = Database(url)
    with database.read() as session:
        customer = session.scalars(
            select(AccountRecord.stripe_customer_id).where(AccountRecord.external_id == "acme")
        ).one()
    database.dispose()
    return str(customer)


SWEEP_AT = "2026-11-25T15:00:00+00:00"  # 10:00 in New York, the stand-in users' time zone


def dms(slack: SlackAPI) -> list[tuple[str, str]]:
    """(channel, invoice numbers) of every reminder DM the stand-in accepted."""
    out = []
    for call in slack.calls("chat.postMessage"):
        if call.ok:
            text = json.dumps(call.json_args)
            out.append(
                (str(call.json_args.get("channel")), ",".join(n for n in ("INV-1", "INV-2", "G-7", "I-1") if n in text))
            )
    return sorted(out)


@pytest.mark.process
def test_kill_9_during_a_reminder_sweep_then_the_next_sweep_sends_the_rest_once(
    tmp_path: Path, prepared_db: str, slack: SlackAPI, localstripe_server: LocalStripe
) -> None:
    # What one undisturbed sweep sends, on a copy of the same data.
    expected = _undisturbed_sweep(tmp_path, slack, localstripe_server)
    assert len(expected) >= 3
    slack.clear()

    with FaultProxy.for_url(slack.base_url) as slack_faults:
        # the first DM goes out; the second hangs (never reaches Slack) until the process is killed
        slack_faults.blackhole(match="chat.postMessage", count=None, skip=1)
        env = serve_env(prepared_db, slack_faults.url("/api/"), localstripe_server.base_url)
        process = subprocess.Popen(
            [*BOT, "reminders", "run-once", "--now", SWEEP_AT],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            slack_faults.wait_seen("chat.postMessage", count=2, timeout=30)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
    assert len(dms(slack)) == 1

    later = (datetime.fromisoformat(SWEEP_AT) + timedelta(minutes=11)).isoformat()  # past the claim lease
    env = serve_env(prepared_db, slack.base_url, localstripe_server.base_url)
    # The next sweeps, as their command runs them (in this process: only the killed one needs its own).
    again = cli.run_cli("reminders", "run-once", "--now", later, env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert cli.run_cli("reminders", "run-once", "--now", later, env=env, cwd=tmp_path).returncode == 0

    assert dms(slack) == expected  # every DM once: none lost, none doubled


def _undisturbed_sweep(tmp_path: Path, slack: SlackAPI, localstripe_server: LocalStripe) -> list[tuple[str, str]]:
    url = migrated_sqlite_url(tmp_path / "undisturbed.db")
    db = Database(url)
    build_services(Settings(_env_file=None, DATABASE_URL=url), db=db).importer.run(SAMPLE)
    db.dispose()
    slack.clear()
    env = serve_env(url, slack.base_url, localstripe_server.base_url)
    assert cli.run_cli("reminders", "run-once", "--now", SWEEP_AT, env=env, cwd=tmp_path).returncode == 0
    return dms(slack)
