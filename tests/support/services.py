"""One way to build the services a test needs: the ``make_services`` fixture.

Registered for every test by ``pytest_plugins`` in tests/conftest.py. It builds on the test's database
and clock (``bot.compose.build_services``, as production wires them), from settings given either by
their environment names (on top of the test's ``DATABASE_URL``) or as a ``Settings``, and imports
``accounts`` when given::

    services = make_services(SMTP_URL=smtp_sink.url, SUPPORT_EMAIL="support@vendor.test", accounts=SAMPLE)
    services = make_services(settings=pay_settings, notifier=notifier, accounts=SAMPLE)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pytest
from slack_sdk import WebClient

from billing_core.autopay.notices import ContactMessenger
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.notifications import Notifier
from billing_core.payments.ports import PaymentGateway
from bot.compose import build_services
from bot.settings import Settings
from handlers.escalations.listeners import slack_staff_channel

__all__ = ["MakeServices", "make_services"]


class MakeServices(Protocol):
    def __call__(
        self,
        *,
        settings: Settings | None = None,
        accounts: Mapping[str, Any] | None = None,
        notifier: Notifier | None = None,
        stripe_gateway: PaymentGateway | None = None,
        staff_client: WebClient | None = None,
        contact_messenger: ContactMessenger | None = None,
        **env: str,
    ) -> Services: ...


@pytest.fixture
def make_services(database_url: str, db: Database, clock: FixedClock) -> MakeServices:
    """Services on this test's database and clock; see the module's docstring."""

    def make(
        *,
        settings: Settings | None = None,
        accounts: Mapping[str, Any] | None = None,
        notifier: Notifier | None = None,
        stripe_gateway: PaymentGateway | None = None,
        staff_client: WebClient | None = None,
        contact_messenger: ContactMessenger | None = None,
        **env: str,
    ) -> Services:
        if settings is None:
            values: dict[str, Any] = {"DATABASE_URL": database_url, **env}
            settings = Settings(_env_file=None, **values)
        elif env:
            raise TypeError(f"settings and environment names together: {sorted(env)}")
        # With ``staff_client`` escalations are posted to SUPPORT_SLACK_CHANNEL through it, as the
        # Slack modes' composition root does.
        staff = slack_staff_channel(settings.support_slack_channel, lambda: staff_client) if staff_client else None
        services = build_services(
            settings,
            clock=clock,
            db=db,
            notifier=notifier,
            stripe_gateway=stripe_gateway,
            staff_channel=staff,
            contact_messenger=contact_messenger,
        )
        if accounts is not None:
            services.importer.run(accounts)
        return services

    return make
