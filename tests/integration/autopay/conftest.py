"""Autopay fixtures: the payment fixtures (localstripe, sample accounts with a Visa each) plus a
messenger that records every DM autopay sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from billing_core.autopay.notices import AutopayNotice
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.messaging import ChatContact, PostedMessage
from bot.compose import build_services
from bot.settings import Settings
from tests.support.payments import RecordingNotifier
from tests.support.sample_accounts import SAMPLE


@dataclass
class RecordingMessenger:
    """Everyone is in the workspace (in ``timezone``); every notice is remembered."""

    timezone: str = "UTC"
    sent: list[tuple[str, AutopayNotice]] = field(default_factory=list)

    def find_contact(self, email: str) -> ChatContact | None:
        return ChatContact(user_id=email, timezone=self.timezone)

    def tell(self, contact: ChatContact, message: AutopayNotice) -> PostedMessage:
        self.sent.append((contact.user_id, message))
        return PostedMessage(f"D{contact.user_id}", f"{len(self.sent)}.000100")

    def kinds(self) -> list[str]:
        return [notice.kind for _, notice in self.sent]


@pytest.fixture
def messenger() -> RecordingMessenger:
    return RecordingMessenger()


@pytest.fixture
def pay(
    pay_settings: Settings,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    messenger: RecordingMessenger,
) -> Services:
    """The payment fixtures' services, telling contacts of autopay and expiring cards through ``messenger``."""
    services = build_services(pay_settings, clock=clock, db=db, notifier=notifier, contact_messenger=messenger)
    services.importer.run(SAMPLE)
    return services


def at(day: str, clock: FixedClock, hour: int = 12) -> None:
    """Move the clock to ``day`` (ISO date) at ``hour``:00 UTC."""
    clock.set(datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC))
