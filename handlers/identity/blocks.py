"""Block Kit for proving e-mail ownership: the prompt, the code modal, the "verified" view."""

from __future__ import annotations

from handlers.identity.ids import VERIFY_CODE_BLOCK, VERIFY_CODE_INPUT, VERIFY_ENTER_ACTION, VERIFY_MODAL_CALLBACK
from handlers.kit.blocks import Block, Screen, actions, button, context, escape, modal, plain, section
from handlers.kit.ids import VERIFY_RESEND_ACTION

VERIFIED_TEXT = "You're verified — run /billing again."
CODE_FORMAT_ERROR = "Enter the 6-digit code from the e-mail."


def prompt_screen(masked_email: str, *, new: bool) -> Screen:
    """Ephemeral: where the code went, and the buttons to enter it or get another."""
    sent = f"We e-mailed a code to {masked_email}" if new else f"We e-mailed a code to {masked_email} earlier"
    text = f"{sent}. Enter it to confirm that this address is yours; then you can use billing here."
    return Screen(
        text,
        [
            section(f":lock: {escape(text)}"),
            actions(
                button("Enter code", VERIFY_ENTER_ACTION, style="primary"),
                button("Send a new code", VERIFY_RESEND_ACTION),
            ),
            context("The code works for 15 minutes. Nobody from billing will ever ask you for it."),
        ],
        title="Verify your e-mail",
    )


def code_modal() -> Block:
    """The modal with one input for the 6-digit code."""
    code_input: Block = {
        "type": "input",
        "block_id": VERIFY_CODE_BLOCK,
        "label": plain("Code from the e-mail"),
        "element": {
            "type": "plain_text_input",
            "action_id": VERIFY_CODE_INPUT,
            "placeholder": plain("6-digit code"),
            "max_length": 12,
        },
    }
    return modal("Verify your e-mail", [code_input], callback_id=VERIFY_MODAL_CALLBACK, submit="Verify", close="Cancel")


def verified_view() -> Block:
    return modal("Verified", [section(f":white_check_mark: {escape(VERIFIED_TEXT)}")])
