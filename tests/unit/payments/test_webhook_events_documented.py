"""The README names every Stripe webhook event the bot acts on, so an operator can enable them."""

from __future__ import annotations

from pathlib import Path

from billing_core.payments.webhooks import HANDLED_EVENTS

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_lists_every_stripe_event_the_bot_handles() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Stripe webhooks", 1)[1]
    assert [event for event in HANDLED_EVENTS if f"`{event}`" not in section] == []
