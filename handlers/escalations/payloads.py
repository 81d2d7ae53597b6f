"""Billing support's own values: the request modal's inputs and the staff post's "Mark resolved"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from billing_core.errors import AccountNotFound
from billing_core.views import CallerContext
from handlers.kit.payloads import (
    METADATA_LIMIT,
    VALUE_LIMIT,
    AccountId,
    AccountRef,
    Payload,
    SlackShape,
    SubmittedView,
    TextPayload,
)

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


# -- a file sent to the app, offered to billing support -----------------------------------------

MAX_OFFERED_FILES = 10  # Slack attaches at most ten files to one message
FILE_NAME_LIMIT = 150
FILE_LINK_LIMIT = 500
NOTE_LIMIT = 300
# Where Slack keeps a file: the workspace's (or organization's) own host, files.slack.com, GovSlack.
_SLACK_HOSTS = ("slack.com", "slack-gov.com", "slack-files.com")


def slack_file_link(raw: object) -> str | None:
    """``raw`` when it is an https link to a file in Slack of at most 500 characters, else None.
    A forged value cannot put any other link in billing support's e-mail."""
    if not isinstance(raw, str) or len(raw) > FILE_LINK_LIMIT or any(c.isspace() or ord(c) < 32 for c in raw):
        return None
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or parts.password or not host:
        return None
    return raw if any(host == h or host.endswith("." + h) for h in _SLACK_HOSTS) else None


class OfferedFile(Payload):
    """One file of the message: its name and its Slack link (permalink, else ``url_private``)."""

    link: str | None = None
    name: Annotated[str, Field(min_length=1, max_length=FILE_NAME_LIMIT)]

    @field_validator("link")
    @classmethod
    def _a_slack_link(cls, link: str | None) -> str | None:
        if link is not None and slack_file_link(link) is None:
            raise ValueError("not a link to a file in Slack")
        return link


class FileOffer(Payload):
    """ "Send to billing support": the account it is for, the files (what fits in a value), how
    many more the message had, and the text sent with them."""

    account: AccountId
    files: Annotated[tuple[OfferedFile, ...], Field(min_length=1, max_length=MAX_OFFERED_FILES)]
    more: Annotated[int, Field(ge=1, le=1000)] | None = None
    note: Annotated[str, Field(min_length=1, max_length=NOTE_LIMIT)] | None = None


def offered_files(account: str, files: Sequence[object], note: str) -> FileOffer | None:
    """The offer for the ``files`` of a Slack message (its ``files`` array) and its text, fitted
    into a button's value (the first files, their names clipped, the rest counted in ``more``);
    None when there is no file. A file Slack describes only by id (``file_access:
    check_file_info``, Slack Connect) is named by its id, without a link."""
    offered = [_offered(f) for f in files if isinstance(f, dict)]
    kept = [f for f in offered if f is not None]
    if not kept:
        return None
    shown, more = kept[:MAX_OFFERED_FILES], len(kept) - MAX_OFFERED_FILES
    note = one_line_note(note)
    while True:
        offer = FileOffer(account=account, files=tuple(shown), more=more if more > 0 else None, note=note or None)
        if len(offer.encode()) <= VALUE_LIMIT:
            return offer
        if len(shown) > 1:
            shown, more = shown[:-1], more + 1
        elif note:
            note = ""
        else:  # one file whose escaped name and link alone are too long: its link goes
            shown = [OfferedFile(name=shown[0].name, link=None)]


def one_line_note(text: str) -> str:
    """The text sent with the files, trimmed to ``NOTE_LIMIT`` characters (lines kept)."""
    return text.strip()[:NOTE_LIMIT].strip()


def _offered(file: dict[str, Any]) -> OfferedFile | None:
    name = next((v for v in (file.get("name"), file.get("title")) if isinstance(v, str) and v.strip()), None)
    file_id = file.get("id") if isinstance(file.get("id"), str) else None
    if name is None and not file_id:
        return None
    shown = " ".join((name or f"file {file_id}").split())[:FILE_NAME_LIMIT] or f"file {file_id}"
    link = slack_file_link(file.get("permalink")) or slack_file_link(file.get("url_private"))
    return OfferedFile(name=shown, link=link)
