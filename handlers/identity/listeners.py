"""Proving e-mail ownership in Slack (``IDENTITY_VERIFICATION=email_code``).

A billing contact whose Slack e-mail is not yet proven gets, instead of billing data, a prompt
naming where the code went (``Interaction.refusal``). "Enter code" opens a modal; the code is
checked in the acknowledgement, so a wrong one is an inline error with the attempts left.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from billing_core.container import Services
from billing_core.errors import IdentityVerificationError
from billing_core.identity.principal import principal_for
from handlers.identity.blocks import CODE_FORMAT_ERROR, code_modal, verified_view
from handlers.identity.ids import VERIFY_CODE_BLOCK, VERIFY_ENTER_ACTION, VERIFY_MODAL_CALLBACK
from handlers.identity.payloads import typed_code
from handlers.identity.prompt import verification_prompt
from handlers.kit.blocks import message_screen
from handlers.kit.errors import GENERIC_FAILURE, user_message
from handlers.kit.guard import acked
from handlers.kit.ids import VERIFY_RESEND_ACTION
from handlers.kit.interaction import Interaction, run_safely

logger = logging.getLogger(__name__)


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


def submit_code(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Check the code in the ack: wrong -> inline error with attempts left; right -> "verified"."""
    code = typed_code(body)
    if code is None:
        ack(response_action="errors", errors={VERIFY_CODE_BLOCK: CODE_FORMAT_ERROR})
        return
    try:
        ix = Interaction(body, client, context)
        # The principal the code was sent for (keyed by the person's own workspace and organization).
        person = ix.unverified or ix.actor
        principal = person.principal if person is not None else principal_for(ix.team_id, ix.user_id)
        email = ix.services.identity_verification.confirm(principal, code)
    except IdentityVerificationError as error:
        ack(response_action="errors", errors={VERIFY_CODE_BLOCK: user_message(error)})
        return
    except Exception:
        logger.exception("could not check a verification code")
        ack(response_action="errors", errors={VERIFY_CODE_BLOCK: GENERIC_FAILURE})
        return
    ack(response_action="update", view=verified_view())
    # Reminders sent to this person as "a reminder is waiting" now show their invoices.
    ix.deps.later.run(_reveal_reminders, services=ix.services, email=email)


def _reveal_reminders(services: Services, email: str) -> None:
    services.reminders.reveal_withheld(email)


def register(app: App) -> None:
    app.action(VERIFY_ENTER_ACTION)(acked(open_code_modal))
    app.action(VERIFY_RESEND_ACTION)(acked(resend_code))
    app.view(VERIFY_MODAL_CALLBACK)(submit_code)
