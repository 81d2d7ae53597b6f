"""Proving e-mail ownership in Slack (``IDENTITY_VERIFICATION=email_code``).

A billing contact whose Slack e-mail is not yet proven gets, instead of billing data, a prompt
naming where the code went (``Interaction.refusal``). "Enter code" opens a modal; the code is
checked in the acknowledgement, so a wrong one is an inline error with the attempts left.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from billing_core.container import Services
from billing_core.errors import IdentityVerificationError
from billing_core.views import Actor
from handlers.identity.resolver import principal_for
from handlers.identity.verification_blocks import (
    CODE_FORMAT_ERROR,
    VERIFY_CODE_BLOCK,
    VERIFY_CODE_INPUT,
    VERIFY_ENTER_ACTION,
    VERIFY_MODAL_CALLBACK,
    VERIFY_RESEND_ACTION,
    code_modal,
    prompt_screen,
    verified_view,
)
from handlers.kit.blocks import Screen, message_screen
from handlers.kit.errors import GENERIC_FAILURE, user_message
from handlers.kit.interaction import Interaction, run_safely
from handlers.runtime.follow_up import acked_then

logger = logging.getLogger(__name__)

_CODE = re.compile(r"\d{6}")


def verification_prompt(services: Services, actor: Actor, *, fresh: bool = False) -> Screen:
    """Send (or reuse) a code for ``actor`` and say where it went; refusals as plain text."""
    try:
        sent = services.identity_verification.request_code(actor, fresh=fresh)
    except IdentityVerificationError as error:
        return message_screen(user_message(error), title="Verify your e-mail")
    return prompt_screen(sent.masked_email, new=sent.new)


def _ack(ack: Ack) -> None:
    ack()


def open_code_modal(body: dict[str, Any], client: WebClient) -> None:
    """Open the code modal (pushed when the prompt itself is in a modal)."""
    trigger = body.get("trigger_id")
    if not isinstance(trigger, str) or not trigger:
        return
    opener = client.views_push if isinstance(body.get("view"), dict) else client.views_open
    try:
        opener(trigger_id=trigger, view=code_modal())
    except Exception:
        logger.exception("could not open the verification modal")


def resend_code(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    def work(ix: Interaction) -> None:
        surface = ix.surface()
        pending = ix.unverified
        if pending is None:  # already verified (or not a contact): the usual answer
            surface.show(ix.refusal() if ix.caller() is None else message_screen("You're already verified."))
            return
        surface.show(verification_prompt(ix.services, pending, fresh=True))

    run_safely(body, client, context, work)


def submit_code(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Check the code in the ack: wrong -> inline error with attempts left; right -> "verified"."""
    typed = _typed_code(view)
    if not _CODE.fullmatch(typed):
        ack(response_action="errors", errors={VERIFY_CODE_BLOCK: CODE_FORMAT_ERROR})
        return
    try:
        ix = Interaction(body, client, context)
        ix.services.identity_verification.confirm(principal_for(ix.team_id, ix.user_id), typed)
    except IdentityVerificationError as error:
        ack(response_action="errors", errors={VERIFY_CODE_BLOCK: user_message(error)})
        return
    except Exception:
        logger.exception("could not check a verification code")
        ack(response_action="errors", errors={VERIFY_CODE_BLOCK: GENERIC_FAILURE})
        return
    ack(response_action="update", view=verified_view())


def _typed_code(view: dict[str, Any]) -> str:
    state = view.get("state") if isinstance(view.get("state"), dict) else {}
    values = state.get("values") if isinstance(state, dict) else None
    block = values.get(VERIFY_CODE_BLOCK) if isinstance(values, dict) else None
    element = block.get(VERIFY_CODE_INPUT) if isinstance(block, dict) else None
    value = element.get("value") if isinstance(element, dict) else None
    return "".join(value.split()) if isinstance(value, str) else ""


def register(app: App) -> None:
    app.action(VERIFY_ENTER_ACTION)(acked_then(_ack, open_code_modal))
    app.action(VERIFY_RESEND_ACTION)(acked_then(_ack, resend_code))
    app.view(VERIFY_MODAL_CALLBACK)(submit_code)
