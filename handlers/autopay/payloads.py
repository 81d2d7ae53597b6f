"""Autopay's button values: asking to turn it on or off, and the confirmation click."""

from __future__ import annotations

from pydantic import StrictBool, model_validator

from handlers.kit.payloads import AccountId, MethodId, Payload


class AutopaySet(Payload):
    """The confirmation's button: ``{"account", "on", "card"}``. ``card`` is the default card the
    confirmation named, required when turning on (a click without it is refused like a forged one,
    so the card check cannot be skipped); if the default changed since, the person is asked again."""

    account: AccountId
    on: StrictBool
    card: MethodId | None = None

    @model_validator(mode="after")
    def _turning_on_names_the_card(self) -> AutopaySet:
        if self.on and self.card is None:
            raise ValueError("turning autopay on needs the card the confirmation named")
        return self
