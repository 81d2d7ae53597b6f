"""The values the app writes into Slack and reads back, as typed models: one parse per request.

Every button value, select option and ``private_metadata`` the builders write is one of these
models, dumped as compact JSON by pydantic's serializer (faster than ``json``; fields are declared
in alphabetical order, so the keys come out sorted as before). The listener reads it back once with
``read``: a forged, malformed or oversized value is ``MalformedPayload``, which the listener kit
refuses like a stale one and audits. Our own values are strict (``extra="forbid"``, no coercion): only this
app writes them, so anything else in them is not ours. Slack's structures around them (a view's
state, an option's text) ignore extra keys: Slack adds fields over time.

The subdomains keep the values only they use next to their listeners
(``handlers.payments.payloads``, ``handlers.reminders.payloads``, ...); the ones written on several
screens (the account, the Pay button, the support button) live here.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from billing_core.errors import AccountNotFound, InvoiceNotFound, PaymentMethodNotFound
from billing_core.views import CallerContext
from handlers.kit.errors import MalformedPayload

# Slack's limits: a button or option value holds 2,000 characters, private_metadata 3,000.
VALUE_LIMIT = 2000
METADATA_LIMIT = 3000

AccountId = Annotated[str, Field(min_length=1, max_length=128)]
InvoiceNumber = Annotated[str, Field(min_length=1, max_length=128)]
MethodId = Annotated[str, Field(min_length=1, max_length=255)]


class Payload(BaseModel):
    """A value this app wrote into Slack. Frozen; strict; unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def encode(self) -> str:
        """Compact JSON; fields left at ``None`` are not written."""
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def decode(cls, raw: object, limit: int = VALUE_LIMIT) -> Self:
        """The model from its JSON text; anything else is ``MalformedPayload``."""
        if not isinstance(raw, str) or len(raw) > limit:
            raise MalformedPayload(raw)
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            raise MalformedPayload(raw) from None

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        """The model from a Slack request: by default the clicked button's value."""
        return cls.decode(first_action(body).get("value"))

    def account_named(self, caller: CallerContext) -> str:
        """The account this value names (checked against the caller's accounts by the kit)."""
        account = getattr(self, "account", None)
        return account if isinstance(account, str) else ""

    def suspect(self, error: BaseException) -> str:
        """The value an audit reader should look at when ``error`` refused this payload."""
        field = _FIELD_REFUSED.get(type(error), "account")
        named = getattr(self, field, None)
        return str(named if named is not None else getattr(self, "account", ""))


_FIELD_REFUSED: dict[type[BaseException], str] = {
    AccountNotFound: "account",
    InvoiceNotFound: "invoice",
    PaymentMethodNotFound: "method",
}


class SlackShape(BaseModel):
    """Slack's own structures around our values: keys we don't read are Slack's business."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class TextPayload(Payload):
    """A value written as plain text, not JSON (a select option, a reference): one field."""

    TEXT_FIELD: ClassVar[str]

    def encode(self) -> str:
        return str(getattr(self, self.TEXT_FIELD))

    @classmethod
    def decode(cls, raw: object, limit: int = VALUE_LIMIT) -> Self:
        if not isinstance(raw, str) or len(raw) > limit:
            raise MalformedPayload(raw)
        try:
            return cls.model_validate({cls.TEXT_FIELD: raw})
        except ValidationError:
            raise MalformedPayload(raw) from None


# -- values written on several screens ------------------------------------------------------


class AccountRef(Payload):
    """A screen button of one account: ``{"account": "<external id>"}``."""

    account: AccountId


class HistoryPage(Payload):
    """The History button and its Previous / Next: ``{"account", "page"}``."""

    account: AccountId
    page: Annotated[int, Field(ge=0, lt=1_000_000)] = 0


class PayTarget(Payload):
    """A Pay button: one invoice ``{"account", "invoice"}`` or the full balance ``{"account", "balance": true}``."""

    account: AccountId
    invoice: InvoiceNumber | None = None
    balance: StrictBool | None = None  # only ever true (a Literal[True] would take 1 for true)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.balance is False or (self.invoice is None) == (self.balance is None):
            raise ValueError("an invoice or the balance, not both")
        return self

    @classmethod
    def of(cls, account: str, invoice: str | None) -> PayTarget:
        """The Pay button for ``invoice``, or for the full balance when it is ``None``."""
        return cls(account=account, invoice=invoice) if invoice else cls(account=account, balance=True)

    def suspect(self, error: BaseException) -> str:
        if isinstance(error, AccountNotFound):
            return self.account
        return self.invoice or "balance"


class SupportTarget(Payload):
    """ "Contact billing support": ``{"account", "invoice", "topic", "message"}``, each may be empty.

    Without an account the request is about the caller's active account.
    """

    account: Annotated[str, Field(max_length=128)] = ""
    invoice: Annotated[str, Field(max_length=128)] = ""
    topic: Annotated[str, Field(max_length=64)] = ""
    message: Annotated[str, Field(max_length=300)] | None = None  # the modal's message, prefilled (from chat)

    def account_named(self, caller: CallerContext) -> str:
        return self.account or caller.active.external_id


class SwitchChoice(TextPayload):
    """The account select: the option's value is the account's external id, as text."""

    TEXT_FIELD: ClassVar[str] = "account"
    account: AccountId

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        option = first_action(body).get("selected_option")
        return cls.decode(option.get("value") if isinstance(option, dict) else None)


# -- reading Slack requests -------------------------------------------------------------------


class _Option(SlackShape):
    value: str


class _Element(SlackShape):
    """One input of a submitted view: a select's chosen option, or a text input's value."""

    value: str | None = None
    selected_option: _Option | None = None
    selected_date: str | None = None


class ViewState(SlackShape):
    """The inputs of a submitted view, by block id and action id."""

    values: dict[str, dict[str, _Element]] = {}

    def chosen(self, block: str, action: str) -> str | None:
        """The value of the option chosen in a select, or ``None``."""
        element = self.values.get(block, {}).get(action)
        option = element.selected_option if element is not None else None
        return option.value if option is not None and option.value else None

    def picked_date(self, block: str, action: str) -> str | None:
        """The ``YYYY-MM-DD`` a datepicker holds, or ``None`` (still text: the caller parses it)."""
        element = self.values.get(block, {}).get(action)
        return element.selected_date if element is not None and element.selected_date else None

    def typed(self, block: str, action: str) -> str:
        """The text typed into an input ("" when none)."""
        element = self.values.get(block, {}).get(action)
        return element.value or "" if element is not None else ""


class SubmittedView(SlackShape):
    """A ``view_submission``'s view: its id, our metadata (still text) and the inputs' state."""

    id: str | None = None
    private_metadata: str = ""
    state: ViewState = ViewState()

    @classmethod
    def of(cls, body: dict[str, Any]) -> SubmittedView:
        """The submitted view; a malformed part reads as empty (nothing chosen or typed)."""
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        assert isinstance(view, dict)
        view_id, metadata = view.get("id"), view.get("private_metadata")
        try:
            state = ViewState.model_validate(view.get("state"))
        except ValidationError:
            state = ViewState()
        return cls(
            id=view_id if isinstance(view_id, str) and view_id else None,
            private_metadata=metadata if isinstance(metadata, str) else "",
            state=state,
        )


def first_action(body: dict[str, Any]) -> dict[str, Any]:
    """The first action of a ``block_actions`` request, or ``{}``."""
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return actions[0]
    return {}


class AutopayChoice(Payload):
    """ "Turn on autopay…" / "Turn off autopay…": ``{"account", "on"}``; shows the confirmation."""

    account: AccountId
    on: StrictBool
