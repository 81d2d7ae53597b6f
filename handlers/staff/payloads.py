"""The staff view's values: an account, a page, and what its two modals submit."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Self

from pydantic import Field

from billing_core.errors import InvalidHoldDate
from handlers.kit.payloads import METADATA_LIMIT, AccountId, Payload, SubmittedView

PAUSE_DATE_BLOCK, PAUSE_DATE_INPUT = "staff_pause_date", "staff_pause_date_picker"
CLOSE_INVOICE_BLOCK, CLOSE_INVOICE_INPUT = "staff_close_invoice", "staff_close_invoice_select"
CLOSE_HOW_BLOCK, CLOSE_HOW_INPUT = "staff_close_how", "staff_close_how_select"
CLOSE_METHOD_BLOCK, CLOSE_METHOD_INPUT = "staff_close_method", "staff_close_method_input"
CLOSE_REFERENCE_BLOCK, CLOSE_REFERENCE_INPUT = "staff_close_reference", "staff_close_reference_input"
PAID_ELSEWHERE, VOID = "paid_elsewhere", "void"


class StaffAccount(Payload):
    """An account's button in the staff view: ``{"account": "<external id>"}``."""

    account: AccountId


class StaffPage(Payload):
    """Previous / Next in the list of most overdue accounts."""

    page: Annotated[int, Field(ge=0, lt=100_000)] = 0


class StaffPauseSubmission(Payload):
    account: AccountId
    picked: str = ""

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        view = SubmittedView.of(body)
        account = StaffAccount.decode(view.private_metadata, METADATA_LIMIT).account
        return cls(account=account, picked=(view.state.picked_date(PAUSE_DATE_BLOCK, PAUSE_DATE_INPUT) or "")[:32])

    def day(self) -> date:
        try:
            return date.fromisoformat(self.picked)
        except ValueError:
            raise InvalidHoldDate(self.picked) from None


class StaffCloseSubmission(Payload):
    account: AccountId
    invoice: str = ""
    how: str = ""
    method: str = ""
    reference: str = ""

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        view = SubmittedView.of(body)
        account = StaffAccount.decode(view.private_metadata, METADATA_LIMIT).account
        state = view.state
        return cls(
            account=account,
            invoice=(state.chosen(CLOSE_INVOICE_BLOCK, CLOSE_INVOICE_INPUT) or "")[:128],
            how=(state.chosen(CLOSE_HOW_BLOCK, CLOSE_HOW_INPUT) or "")[:32],
            method=state.typed(CLOSE_METHOD_BLOCK, CLOSE_METHOD_INPUT)[:64],
            reference=state.typed(CLOSE_REFERENCE_BLOCK, CLOSE_REFERENCE_INPUT)[:255],
        )
