"""How the demo console behaves at the keyboard: Ctrl-C in a form, two consoles at once, the
history file, a mistyped command, the App Home's numbers, and what the banner tells a newcomer."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from devtools.console.terminal import card_safe_history
from tests.console.console_process import QUESTION, after_prompt, clean_env, number, printf_console
from tests.console.test_console_demo import start_console

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process


def test_ctrl_c_in_a_form_cancels_the_form_and_the_console_goes_on(tmp_path: Path) -> None:
    console, _ = start_console(tmp_path)
    try:
        overview = console.send("/billing")
        support = console.send(number(overview, "Contact billing support"))
        console.send(number(support, "Send", after="updated"), expect=QUESTION)
        console.signal(signal.SIGINT)
        cancelled = console.read_until_prompt()
        assert "form cancelled" in cancelled
        assert "Bye" not in cancelled
        assert "Balance: $1,730.00" in console.send("/billing")
        console.signal(signal.SIGINT)  # at the prompt: quits, as before
        console.finish()
        assert "Bye" in console.transcript
    finally:
        console.kill()


def test_a_second_console_in_the_same_directory_gets_its_own_data_and_leaves_the_firsts_alone(
    tmp_path: Path,
) -> None:
    first, _ = start_console(tmp_path)
    second = None
    try:
        modal = first.send("/billing pay balance")
        first.send(number(modal, "Pay $1,730.00", after="updated"), expect=QUESTION)
        assert "Payment received: $1,730.00" in first.send("")
        second, banner = start_console(tmp_path)
        assert "another console is using .demo/, so this one has its own demo data" in banner
        assert "Balance: $1,730.00" in second.send("/billing")
        assert "Balance: $1,730.00" not in first.send("/billing")
    finally:
        first.kill()
        if second is not None:
            second.kill()


def test_a_line_with_a_card_number_is_not_kept_in_the_history_file(tmp_path: Path) -> None:
    path = tmp_path / "history"
    history = card_safe_history(path)
    history.append_string("/billing support my card is 4242 4242 4242 4242")
    history.append_string("/billing support card 4242-4242-4242-4242 expired")
    history.append_string("/billing pay INV-1001")
    text = path.read_text()
    assert "4242" not in text
    assert "/billing pay INV-1001" in text


def test_a_mistyped_command_gets_a_friendly_line_not_bolts_developer_advice(tmp_path: Path) -> None:
    out = printf_console("/bill pay\n/billing\n", cwd=tmp_path, env=clean_env())
    answer = after_prompt(out, "/bill pay")
    assert "Unknown command /bill" in answer and "/billing help" in answer
    assert "Suggestion" not in out and "@app.command" not in out and "Unhandled request" not in out
    assert "HTTP 404" not in out
    assert "Balance: $1,730.00" in after_prompt(out, "/billing")


def test_the_home_is_drawn_again_with_working_numbers_after_the_window_it_opened_closes(tmp_path: Path) -> None:
    console, _ = start_console(tmp_path)
    try:
        home = console.send(":home")
        invoices = console.send(number(home, "Pay (primary)"))
        assert "Modal: Invoices" in invoices
        back = console.send(number(invoices, "Close", after="updated"))
        assert "back on the App Home" in back
        history = console.send(number(back, "History"))
        assert "Modal: History" in history
    finally:
        console.kill()


def test_the_banner_names_the_demo_people_how_to_switch_and_the_card_that_declines(tmp_path: Path) -> None:
    console, banner = start_console(tmp_path)
    console.kill()
    assert "ann@acme.test" in banner and "bob@globex.test" in banner and "eve@example.test" in banner
    assert ":as <email>" in banner
    assert "Visa •••• 0341" in banner and "declined when charged" in banner
