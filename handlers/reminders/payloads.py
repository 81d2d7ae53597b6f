"""The reminder DM's own button values: "I've already paid" and "Remind me later"."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from handlers.kit.payloads import AccountId, InvoiceNumber, Payload

MAX_PAIRS = 50  # a DM names at most 20 invoices; the service refuses more than 50 at once


class InvoiceRef(Payload):
    """"I've already paid" for one invoice: ``{"account", "invoice"}``."""

    account: AccountId
    invoice: InvoiceNumber

    def suspect(self, error: BaseException) -> str:
        return self.invoice


class SnoozeTarget(Payload):
    """"Remind me later": ``{"invoices": [[account, number], ...]}`` for every unpaid invoice of the DM."""

    invoices: Annotated[list[tuple[AccountId, InvoiceNumber]], Field(min_length=1, max_length=MAX_PAIRS)]

    def suspect(self, error: BaseException) -> str:
        return ",".join(number for _, number in self.invoices)[:255]
