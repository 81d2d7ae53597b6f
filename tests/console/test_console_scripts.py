"""The demo console driven by scripts piped into it, as in the README: adding a card, and telling
billing support "I've already paid" from a reminder, with the e-mail leaving at once."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.console.console_process import QUESTION, REPO, after_prompt, clean_env, number, printf_console
from tests.console.test_console_demo import next_weekday, start_console

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process


def test_a_script_adds_a_demo_card_on_the_stand_in_checkout_page_and_the_bot_lists_it(tmp_path: Path) -> None:
    script = (
        "/billing methods\n"
        "4\n"  # Add card
        "1\n"  # Add a card securely: the stand-in of Stripe's page
        "4\n"  # Visa •••• 0002: declined when saved
        "2\n",  # Visa debit •••• 5556: saved
        # Back in Slack once the page said so: the card list answers from the copy Stripe's event updated.
        "/billing methods\n",
    )
    out = printf_console(script, cwd=tmp_path, env=clean_env())

    page = after_prompt(out, "1")
    assert "(Slack opens http://127.0.0.1:" in page and "Demo checkout" in page
    assert "Your card was declined" in out
    assert "Saved Visa debit •••• 5556" in out
    assert "DM to Ann Lee <ann@acme.test>" in out and "Visa •••• 5556" in out and "was added to Acme Corp" in out
    listed = after_prompt(out, "/billing methods", last=True)
    assert "Visa •••• 5556" in listed
    assert "refused the request" not in out
    assert "4000056655665556" not in out and "4000000000000002" not in out


def test_a_script_says_ive_already_paid_to_a_reminder_and_the_e_mail_to_support_is_delivered_at_once(
    tmp_path: Path,
) -> None:
    sweep = next_weekday(datetime.now(UTC).date() + timedelta(days=5))
    script = (
        f":remind {sweep.isoformat()}\n"
        "2\n"  # the first reminder DM's "I've already paid"
        "y\n"  # yes, tell billing support
        ":quit\n"
    )
    out = printf_console(script, cwd=tmp_path, env=clean_env())

    assert "I've already paid" in after_prompt(out, f":remind {sweep.isoformat()}")
    answer = after_prompt(out, "2")
    assert "tell billing support" in answer
    assert "I've told billing support (reference ESC-" in answer
    assert "✉ e-mail sent to billing@example.com: [ESC-" in answer  # before the next prompt: no scheduler needed


def test_the_script_in_the_readme_pays_the_overdue_demo_invoice(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"^printf '([^']*)' \| \.venv/bin/billing-bot console --demo$", readme, re.MULTILINE)
    assert match, "the README shows a printf script for the console"
    script = match.group(1).encode().decode("unicode_escape")

    out = printf_console(script, cwd=tmp_path, env=clean_env())

    assert "✔ Payment received: $480.00" in out and "Invoices: INV-0998" in out


def test_the_stand_in_checkout_page_also_works_in_a_browser(tmp_path: Path) -> None:
    console, _ = start_console(tmp_path)
    try:
        methods = console.send("/billing methods")
        screen = console.send(number(methods, "Add card"))
        page = console.send(number(screen, "Add a card securely"), expect=QUESTION)
        url = re.search(r"\(Slack opens (http://127\.0\.0\.1:\d+/c/\S+) in the browser\)", page)
        assert url, page

        with urllib.request.urlopen(url.group(1), timeout=10) as response:
            html = response.read().decode()
        assert "Visa •••• 4242" in html and "declined when saved" in html
        form = urllib.parse.urlencode({"card": "visa-debit"}).encode()
        with urllib.request.urlopen(url.group(1), data=form, timeout=10) as response:
            assert "Saved Visa debit •••• 5556" in response.read().decode()

        assert "saved on the page in the browser" in console.send("")
        assert "Visa •••• 5556" in console.send("/billing methods")
    finally:
        console.kill()
