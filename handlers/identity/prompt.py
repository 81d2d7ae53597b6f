"""The answer to a billing contact who has not proven their e-mail yet: a code, and where it went."""

from __future__ import annotations

from billing_core.container import Services
from billing_core.errors import IdentityVerificationError
from billing_core.views import Actor
from handlers.identity.blocks import prompt_screen
from handlers.kit.blocks import Screen, message_screen
from handlers.kit.errors import user_message


def verification_prompt(services: Services, actor: Actor, *, fresh: bool = False) -> Screen:
    """Send (or reuse) a code for ``actor`` and say where it went; refusals as plain text."""
    try:
        sent = services.identity_verification.request_code(actor, fresh=fresh)
    except IdentityVerificationError as error:
        return message_screen(user_message(error), title="Verify your e-mail")
    return prompt_screen(sent.masked_email, new=sent.new)
