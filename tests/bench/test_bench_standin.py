"""The load-test stand-in answers Stripe's card reads as Stripe documents them, agreeing with the
card copy the bench generator wrote, so a pay modal opened on an old copy measures a real refresh."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from bench.generate import Sizes, card_rows
from bench.standin import StandIn
from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.errors import PaymentProviderError
from billing_core.payments.card_cache import fetch_cards
from billing_core.payments.intents import Card

T = TypeVar("T")


def _in_stand_in(work: Callable[[str], T]) -> T:
    """``work(root_url)`` on a thread while the stand-in serves on this one's event loop."""

    async def main() -> T:
        standin = await StandIn().start()
        try:
            return await asyncio.get_running_loop().run_in_executor(None, work, standin.root_url)
        finally:
            await standin.stop()

    return asyncio.run(main())


def test_a_card_refresh_from_the_stand_in_finds_the_card_the_generator_cached() -> None:
    def refresh(root: str) -> tuple[list[Card], str | None]:
        return fetch_cards(StripeGateway("sk_test_bench", api_base=root), "cus_bench000007")

    cards, default = _in_stand_in(refresh)
    cached = list(card_rows(Sizes(accounts=8, invoices=8), datetime.now(UTC)))[7]
    assert [(c.id, c.brand, c.last4, c.exp_month, c.exp_year) for c in cards] == [tuple(cached[2:7])]
    assert default == cached[2]


def test_a_stripe_request_the_stand_in_does_not_know_fails_as_stripe_would() -> None:
    def unknown(root: str) -> str | None:
        return StripeGateway("sk_test_bench", api_base=root).default_payment_method("cus_not_from_the_bench")

    with pytest.raises(PaymentProviderError):
        _in_stand_in(unknown)
