"""The Stripe client reads the proxy settings of its environment once, as requests would read them
for each call: an operator behind a proxy still reaches Stripe through it, and ``NO_PROXY`` still
exempts the host."""

from __future__ import annotations

from typing import Any

import pytest

from billing_core.adapters.stripe_gateway import StripeGateway


def _session(gateway: StripeGateway) -> Any:
    """The HTTP session Stripe's client sends with (stripe-python's internals)."""
    client: Any = gateway._client
    return client._requestor._client._session


def _proxies(gateway: StripeGateway) -> dict[str, str]:
    return dict(_session(gateway).proxies)


def test_an_https_proxy_in_the_environment_carries_the_stripe_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert _proxies(StripeGateway("sk_test_x"))["https"] == "http://proxy.internal:3128"


def test_no_proxy_naming_the_stripe_host_sends_the_calls_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "api.stripe.com")
    assert "https" not in _proxies(StripeGateway("sk_test_x"))


def test_the_environment_is_not_read_again_on_each_call() -> None:
    assert _session(StripeGateway("sk_test_x")).trust_env is False
