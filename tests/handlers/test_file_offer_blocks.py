"""A file sent to the app, offered to billing support: the offer Slack must accept and the request's
message support must get, whatever Slack says about the files (Slack's Block Kit limits: a button's value holds
2,000 characters, a section 3,000; an escalation's message 2,000)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from billing_core.escalations.views import MAX_MESSAGE_LENGTH
from billing_core.money import Money
from billing_core.views import AccountView
from handlers.escalations.blocks import NO_LINK, file_offer_screen, file_request_message
from handlers.escalations.payloads import FileOffer, offered_files, slack_file_link
from handlers.kit.errors import MalformedPayload
from handlers.kit.payloads import VALUE_LIMIT
from tests.support.block_limits import message_problems

LONG_NAME = 'Remittance "Q4" *final* <@U123> & 👨‍👩‍👧‍👦 ' * 60  # far past any limit, with marks, quotes, emoji
ACCOUNT = AccountView("a" * 128, "Acme <Corp> & Co " * 12, "usd", Money(0, "usd"), 0, date(2026, 12, 1), 1)


def slack_file(n: int, name: str = LONG_NAME, link_length: int = 80) -> dict[str, Any]:
    return {
        "id": f"F{n:08d}",
        "name": f"{n}-{name}",
        "permalink": "https://acme.slack.com/files/U1/" + "x" * link_length,
        "url_private": f"https://files.slack.com/files-pri/T1-F{n:08d}/file",
    }


@pytest.mark.parametrize(
    ("files", "note"),
    [
        ([slack_file(1)], ""),
        ([slack_file(1)], "Here you go " * 500),
        ([slack_file(n) for n in range(10)], '"quoted" \\ <!channel> ' * 100),
        ([slack_file(n, '"' * 400, link_length=480) for n in range(40)], "x" * 5000),
        ([slack_file(1, name="a.pdf")], ""),
        ([{"id": "F0CONNECT", "file_access": "check_file_info"}], ""),
    ],
)
def test_the_offer_fits_slack_and_the_request_fits_support_whatever_the_files(
    files: list[dict[str, Any]], note: str
) -> None:
    offer = offered_files(ACCOUNT.external_id, files, note)
    assert offer is not None
    value = offer.encode()
    assert len(value) <= VALUE_LIMIT and FileOffer.decode(value) == offer  # the click reads back what was offered
    assert len(offer.files) + (offer.more or 0) == len(files)  # every file is named or counted
    screen = file_offer_screen(ACCOUNT, offer)
    assert message_problems(screen.blocks, screen.text) == []
    message = file_request_message(offer)
    assert 0 < len(message) <= MAX_MESSAGE_LENGTH
    for shown in offer.files:
        assert (shown.link or NO_LINK) in message or "more file" in message


def test_file_names_are_shown_as_text_never_as_markup() -> None:
    offer = offered_files("acme", [slack_file(1, name="<!channel> *bold* <https://evil|x>")], "")
    assert offer is not None
    screen = file_offer_screen(ACCOUNT, offer)
    text = screen.blocks[0]["text"]["text"] + screen.text  # what Slack renders (the button's value is not)
    assert "<!channel>" not in text and "<https://evil" not in text and "&lt;!channel&gt;" in text


def test_a_message_without_a_nameable_file_is_no_offer() -> None:
    assert offered_files("acme", [], "hi") is None
    assert offered_files("acme", ["F1", {"mode": "tombstone"}], "hi") is None


def test_only_links_to_files_in_slack_are_kept_and_accepted_back() -> None:
    assert slack_file_link("https://acme.slack.com/files/U1/F1/a.pdf")
    assert slack_file_link("https://files.slack.com/files-pri/T1-F1/a.pdf")
    assert slack_file_link("https://acme.enterprise.slack.com/files/U1/F1/a.pdf")
    for bad in [
        "http://acme.slack.com/files/a.pdf",
        "https://evil.com/files/a.pdf",
        "https://evilslack.com/a.pdf",
        "https://acme.slack.com.evil.com/a.pdf",
        "https://user:pw@acme.slack.com/a.pdf",
        "https://acme.slack.com/a b",
        "javascript:alert(1)",
        "https://acme.slack.com/" + "x" * 600,
        None,
    ]:
        assert slack_file_link(bad) is None, bad
    forged = json.dumps({"account": "acme", "files": [{"link": "https://evil.com/x", "name": "a.pdf"}]})
    with pytest.raises(MalformedPayload):
        FileOffer.decode(forged)
