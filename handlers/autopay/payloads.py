"""Autopay's button values: asking to turn it on or off, and the confirmation click."""

from __future__ import annotations

from pydantic import StrictBool

from handlers.kit.payloads import AccountId, MethodId, Payload


class AutopayChoice(Payload):
    """"Turn on autopay…" / "Turn off autopay…": ``{"account", "on"}``; shows the confirmation."""

    account: AccountId
    on: StrictBool


class AutopaySet(Payload):
    """The confirmation's button: ``{"account", "on", "card"}``. ``card`` is the default card the
    confirmation named when turning on; if it changed since, the person is asked again."""

    account: AccountId
    on: StrictBool
    card: MethodId | None = None
