"""Block Kit drawn as text: what a person at the console reads, and the numbers they choose by."""

from __future__ import annotations

from typing import Any

from devtools.console.render import Clickable, mrkdwn, render_blocks, render_view


def numbering() -> tuple[list[Clickable], Any]:
    chosen: list[Clickable] = []

    def on_choice(clickable: Clickable) -> int:
        chosen.append(clickable)
        return len(chosen)

    return chosen, on_choice


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def test_sections_fields_context_headers_and_dividers_read_as_plain_text() -> None:
    _, on_choice = numbering()
    lines = render_blocks(
        [
            {"type": "header", "text": plain("Acme Corp")},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Balance:* $1,730.00 &amp; rising"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Due*"}, {"type": "mrkdwn", "text": "5 Dec"}]},
            {"type": "divider"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Questions? <mailto:b@x.test|billing>"}]},
        ],
        on_choice,
    )
    text = "\n".join(lines)
    assert "ACME CORP" in text
    assert "Balance: $1,730.00 & rising" in text
    assert "Due" in text and "5 Dec" in text
    assert "─" * 10 in text
    assert "· Questions? billing <mailto:b@x.test>" in text


def test_every_button_and_select_option_gets_its_own_number() -> None:
    chosen, on_choice = numbering()
    select = {
        "type": "static_select",
        "action_id": "switch",
        "placeholder": plain("Switch account"),
        "options": [{"text": plain("Acme Corp"), "value": "acme"}, {"text": plain("Acme Labs"), "value": "labs"}],
        "initial_option": {"text": plain("Acme Corp"), "value": "acme"},
    }
    lines = render_blocks(
        [
            {
                "type": "actions",
                "block_id": "b1",
                "elements": [
                    {"type": "button", "text": plain("Pay"), "action_id": "pay", "value": "1", "style": "primary"},
                    select,
                ],
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "Card"},
                "accessory": {"type": "button", "text": plain("Remove"), "action_id": "rm", "style": "danger"},
            },
        ],
        on_choice,
    )
    text = "\n".join(lines)
    assert "[1] Pay (primary)" in text
    assert "[2] Acme Corp (selected)" in text
    assert "[3] Acme Labs" in text
    assert "[4] Remove (danger)" in text
    assert [c.label for c in chosen] == ["Pay", "Acme Corp", "Acme Labs", "Remove"]
    assert chosen[2].option == {"text": plain("Acme Labs"), "value": "labs"}
    assert chosen[0].block_id == "b1"


def test_a_modal_shows_its_inputs_and_offers_submit_and_close() -> None:
    _, on_choice = numbering()
    footer: list[str] = []

    def submit(kind: str) -> int:
        footer.append(kind)
        return 10 + len(footer)

    view = {
        "type": "modal",
        "title": plain("Confirm payment"),
        "submit": plain("Pay $480.00"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "m",
                "label": plain("Pay with"),
                "element": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [{"text": plain("Visa •••• 4242"), "value": "pm_1"}],
                    "initial_option": {"text": plain("Visa •••• 4242"), "value": "pm_1"},
                },
            },
            {
                "type": "input",
                "block_id": "t",
                "optional": True,
                "label": plain("Message"),
                "element": {"type": "plain_text_input", "action_id": "msg"},
            },
        ],
    }
    lines = render_view(view, on_choice, submit=submit)
    text = "\n".join(lines)
    assert lines[0] == "Confirm payment"
    assert "✎ Pay with" in text and "• Visa •••• 4242" in text
    assert "✎ Message (optional)" in text
    assert "[11] Pay $480.00   [12] Cancel" in text


def test_links_mentions_and_emoji_are_made_readable() -> None:
    assert mrkdwn("<https://pay.test/x|Complete authentication>") == "Complete authentication <https://pay.test/x>"
    assert mrkdwn("hi <@U123> :white_check_mark:") == "hi @U123 ✔"
    assert mrkdwn("snake_case *bold* 2*3*4") == "snake_case bold 2*3*4"


def test_emoji_shortcodes_are_drawn_in_mrkdwn_and_plain_text_and_unknown_ones_stay_as_typed() -> None:
    assert mrkdwn("No open invoices. :tada:") == "No open invoices. 🎉"
    assert mrkdwn("Our own :acme-logo: emoji") == "Our own :acme-logo: emoji"
    assert "👋" in "\n".join(render_blocks([{"type": "header", "text": plain("Hello :wave:")}], numbering()[1]))


def test_struck_through_invoice_numbers_show_struck_through_not_between_tildes() -> None:
    shown = mrkdwn(":white_check_mark: ~INV-1001~ · Acme Corp · paid")
    assert "~" not in shown
    assert shown.startswith("✔ I\u0336N\u0336V\u0336")
    assert shown.replace("\u0336", "") == "✔ INV-1001 · Acme Corp · paid"
    assert mrkdwn("about ~5 days, and ~10") == "about ~5 days, and ~10"
