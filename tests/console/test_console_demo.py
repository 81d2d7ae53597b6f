"""``billing-bot console --demo`` driven through its stdin, as a newcomer would use it."""

from __future__ import annotations

import base64
import json
import signal
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.console.console_process import (
    QUESTION,
    ConsoleProcess,
    clean_env,
    localstripe_pids,
    number,
    stripe_port,
    wait_until_gone,
)
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


def start_console(cwd: Path, **env: str) -> tuple[ConsoleProcess, str]:
    console = ConsoleProcess(["bot", "console", "--demo"], cwd=cwd, env=clean_env(**env))
    try:
        banner = console.read_until_prompt()
    except BaseException:
        console.kill()
        raise
    return console, banner


def stripe_get(port: int, path: str) -> dict[str, Any]:
    auth = base64.b64encode(b"sk_test_demo:").decode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_a_newcomer_pays_switches_lists_cards_gets_reminders_and_escalates(tmp_path: Path, sink: SmtpSink) -> None:
    console, banner = start_console(tmp_path, SMTP_URL=sink.url)
    try:
        port = stripe_port(banner)
        assert "You are now Ann Lee <ann@acme.test>" in banner

        # Pay the overdue invoice: list, choose, confirm in the modal with the default card.
        listing = console.send("/billing pay")
        assert "ephemeral, only visible to you" in listing
        modal = console.send(number(listing, "Pay", after="INV-0998"))
        assert "Modal: Confirm payment" in modal and "Visa •••• 4242" in modal
        question = console.send(number(modal, "Pay $480.00", after="updated"), expect=QUESTION)
        assert "Pay with" in question
        receipt = console.send("")
        assert "Payment received: $480.00" in receipt
        assert "DM to Ann Lee <ann@acme.test>" in receipt

        intents = stripe_get(port, "/v1/payment_intents")["data"]
        paid = [i for i in intents if i["amount"] == 48000 and i["currency"] == "usd" and i["status"] == "succeeded"]
        assert len(paid) == 1

        # Switch to the other account and look at its cards.
        switched = console.send("/billing switch Acme Labs")
        assert "Acme Labs" in switched
        methods = console.send("/billing methods")
        assert "Payment methods for Acme Labs" in methods and "Visa •••• 4242" in methods

        # A reminder sweep on the day Acme Labs' invoice is due (moved past a weekend).
        due = next_weekday(datetime.now(UTC).date() + timedelta(days=5))
        reminders = console.send(f":remind {due.isoformat()}")
        assert "DM to Ann Lee <ann@acme.test>" in reminders and "INV-2001" in reminders
        assert "DM to Bob Stone <bob@globex.test>" in reminders and "INV-3001" in reminders
        assert "Reminder sweep at" in reminders and "failed 0" in reminders

        # Escalate through the support modal, which prompts for each of its inputs.
        overview = console.send("/billing")
        support = console.send(number(overview, "Contact billing support"))
        assert "Modal: Billing support" in support
        console.send(number(support, "Send", after="updated"), expect=QUESTION)  # topic
        console.send("5", expect=QUESTION)  # Something else; then: related invoice
        console.send("", expect=QUESTION)  # no particular invoice; then: message
        sent = console.send("I was charged twice for INV-2000")
        assert "ESC-" in sent

        mails = sink.wait_for(2, timeout=30)  # the receipt of the payment above, and the escalation
        assert any(m["To"] == "ann@acme.test" and "Receipt: $480.00" in m["Subject"] for m in mails)
        mail = next(m for m in mails if m["To"] == "billing@example.com")
        assert "[ESC-" in mail["Subject"] and "Acme Labs" in mail["Subject"]
        assert "ann@acme.test" in mail["Reply-To"]
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None and "I was charged twice for INV-2000" in body.get_content()

        console.type(":quit")
        rest = console.finish()
        assert "Bye" in rest
        assert console.proc.returncode == 0
        assert wait_until_gone(port) == []
    finally:
        console.kill()


@pytest.mark.parametrize("how", ["end of input", "Ctrl-C", "SIGTERM"])
def test_leaving_the_console_stops_localstripe_and_everything_else(tmp_path: Path, how: str) -> None:
    console, banner = start_console(tmp_path)
    try:
        port = stripe_port(banner)
        assert localstripe_pids(port), "localstripe should run while the console does"
        if how == "end of input":
            console.close_stdin()
        else:
            console.signal(signal.SIGINT if how == "Ctrl-C" else signal.SIGTERM)
        console.finish()
        assert "Bye" in console.transcript
        assert wait_until_gone(port) == []
    finally:
        console.kill()


def test_localstripe_goes_away_even_when_the_console_is_killed(tmp_path: Path) -> None:
    console, banner = start_console(tmp_path)
    port = stripe_port(banner)
    console.kill()
    assert wait_until_gone(port) == []


def test_each_start_begins_with_fresh_demo_data(tmp_path: Path) -> None:
    console, _ = start_console(tmp_path)
    try:
        console.send("/billing pay balance")
    finally:
        console.kill()
    again, _ = start_console(tmp_path)
    try:
        overview = again.send("/billing")
        assert "Balance: $1,730.00" in overview
        assert (tmp_path / ".demo" / "demo.db").exists()
    finally:
        again.close_stdin()
        again.finish()
        again.kill()
