"""``billing-bot console`` without ``--demo``: the configured database, anyone by ``:as``."""

from __future__ import annotations

import io

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.sources.importer import Importer
from bot.settings import Settings
from devtools.console.session import run_console

DATA = {
    "accounts": [
        {
            "id": "initech",
            "name": "Initech",
            "currency": "usd",
            "contacts": [{"email": "peter@initech.test", "name": "Peter Gibbons"}],
            "invoices": [
                {
                    "number": "INV-7",
                    "issued_on": "2026-11-01",
                    "due_on": "2026-12-01",
                    "amount_due": 4200,
                    "currency": "usd",
                    "status": "open",
                    "description": "TPS reports",
                }
            ],
        }
    ]
}


def run(settings: Settings, clock: FixedClock, script: str) -> str:
    out = io.StringIO()
    run_console(settings, stdin=io.StringIO(script), stdout=out, clock=clock)
    return out.getvalue()


def test_the_console_reads_the_configured_database_as_whoever_you_say_you_are(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    Importer(db=db, clock=clock).run(DATA)

    output = run(settings, clock, "/billing\n:as peter@initech.test\n/billing invoices\n:quit\n")

    assert "Act as a billing contact with :as <email>" in output
    assert "Pick who you are first" in output
    assert "You are now Peter <peter@initech.test>" in output
    assert "INV-7" in output and "$42.00" in output
    assert output.rstrip().endswith("Bye: everything the console started has been stopped.")


def test_someone_who_is_not_a_billing_contact_sees_no_account_data(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    Importer(db=db, clock=clock).run(DATA)

    output = run(settings, clock, ":as mallory@evil.test\n/billing invoices\n")

    assert "ephemeral, only visible to you" in output
    assert "INV-7" not in output and "Initech" not in output
    assert "billing@example.com" in output


def test_console_commands_are_listed_and_unknown_input_gets_a_hint(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    output = run(settings, clock, ":help\nhello\n7\n:nope\n")

    for command in (":help", ":as <email>", ":home", ":remind <date>", ":quit"):
        assert command in output
    assert "Pick who you are first: :as <email>" in output  # "hello" is a message: someone must type it
    assert "Nothing on screen has the number 7." in output
    assert "Unknown console command :nope." in output


def test_a_line_without_a_slash_is_a_message_in_the_apps_dm_and_is_answered_there(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    Importer(db=db, clock=clock).run(DATA)

    output = run(settings, clock, ":as peter@initech.test\nwhat do I owe?\nhelp\n")

    assert "$42.00" in output and "INV-7" in output
    assert "You can type to me in plain words" in output and "pay INV-1001" in output
