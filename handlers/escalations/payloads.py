"""Billing support's own values: the request modal's inputs and the staff post's "Mark resolved"."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field

from billing_core.errors import AccountNotFound
from billing_core.views import CallerContext
from handlers.kit.payloads import METADATA_LIMIT, AccountRef, Payload, SlackShape, SubmittedView, TextPayload

TOPIC_BLOCK, TOPIC_INPUT = "support_topic", "support_topic_select"
INVOICE_BLOCK, INVOICE_INPUT = "support_invoice", "support_invoice_select"
MESSAGE_BLOCK, MESSAGE_INPUT = "support_message", "support_message_input"
NO_INVOICE = "-"


class EscalationRef(TextPayload):
    """ "Mark resolved": the button's value is the request's reference, as text."""

    TEXT_FIELD: ClassVar[str] = "reference"
    reference: Annotated[str, Field(min_length=1, max_length=64)]


State = Literal["open", "waiting", "resolved"]


class StateChange(Payload):
    """A state button in the staff post or the requester's DM thread: ``{"reference", "state"}``."""

    reference: Annotated[str, Field(min_length=1, max_length=64)]
    state: State

    @staticmethod
    def raw_reference(body: dict[str, Any]) -> str:
        """What a malformed button's value said (for the audit), cut short."""
        actions = body.get("actions") if isinstance(body.get("actions"), list) else []
        first = actions[0] if actions and isinstance(actions[0], dict) else {}
        return str(first.get("value") or "")[:255]


class SupportForm(SlackShape):
    """What was chosen and typed in the request modal (checked by the service, not trusted)."""

    topic: str | None = None
    invoice: str | None = None
    message: str = ""

    @classmethod
    def of(cls, view: SubmittedView) -> SupportForm:
        invoice = view.state.chosen(INVOICE_BLOCK, INVOICE_INPUT)
        return cls(
            topic=view.state.chosen(TOPIC_BLOCK, TOPIC_INPUT),
            invoice=invoice if invoice != NO_INVOICE else None,
            message=view.state.typed(MESSAGE_BLOCK, MESSAGE_INPUT),
        )


class SupportSubmission(Payload):
    """The request modal submitted: the account it was opened for (our metadata) and the form."""

    account: str
    form: SupportForm

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        view = SubmittedView.of(body)
        account = AccountRef.decode(view.private_metadata, METADATA_LIMIT).account
        return cls(account=account, form=SupportForm.of(view))

    def account_named(self, caller: CallerContext) -> str:
        return self.account

    def suspect(self, error: BaseException) -> str:
        return self.account if isinstance(error, AccountNotFound) else str(self.form.invoice)
