"""What ``/billing`` understands."""

from __future__ import annotations

from handlers.kit.blocks import Screen, context, escape, section

COMMANDS = (
    ("/billing", "overview of your active account"),
    ("/billing pay", "choose an open invoice to pay, or the full balance"),
    ("/billing pay <invoice number>", "pay one invoice"),
    ("/billing pay balance", "pay the whole open balance"),
    ("/billing balance", "what is owed"),
    ("/billing invoices", "open invoices"),
    ("/billing methods", "saved cards: add, make default, remove"),
    ("/billing autopay [on|off]", "charge open invoices to the default card on their due date"),
    ("/billing history", "past payments"),
    ("/billing accounts", "the accounts you are billing contact for"),
    ("/billing switch <id or name>", "change the active account"),
    ("/billing support [message]", "ask billing support for help"),
    ("/billing help", "this list"),
)


def help_screen(support_email: str) -> Screen:
    # ``<invoice number>`` unescaped is Slack's link syntax: it would show as "invoice number".
    lines = "\n".join(f"`{escape(command)}` {what}" for command, what in COMMANDS)
    blocks = [
        section("*Here's what I can do:*\n" + lines),
        context(
            "I only pay whole invoices or the full balance. For anything else, billing support can help: "
            + escape(support_email)
        ),
    ]
    return Screen("Billing assistant: " + ", ".join(c for c, _ in COMMANDS), blocks, title="Help")
