"""Link buttons to documents kept elsewhere: "View invoice" wherever an invoice with a document
(``document_url``) is shown, "View receipt" wherever a payment with Stripe's receipt is shown.

A link button still posts a ``block_actions`` event when clicked; its ``link_`` action id is acked
by the no-op listener in ``handlers/navigation.py``.
"""

from __future__ import annotations

from billing_core.sources.import_format import web_url_problem
from handlers.kit.blocks import Block, link_button

MAX_BUTTON_URL = 3000  # Block Kit's limit for a button's url
VIEW_INVOICE = "view_invoice"  # action id: link_view_invoice


VIEW_RECEIPT = "view_receipt"  # action id: link_view_receipt


def view_invoice_button(url: str | None) -> Block | None:
    """The button, or None without a usable http(s) URL (the import checked it; this re-checks)."""
    return _document_button("View invoice", url, VIEW_INVOICE)


def view_receipt_button(url: str | None) -> Block | None:
    """Stripe's receipt for a payment (the charge's ``receipt_url``), or None when it gave none."""
    return _document_button("View receipt", url, VIEW_RECEIPT)


def _document_button(label: str, url: str | None, name: str) -> Block | None:
    if not url or len(url) > MAX_BUTTON_URL or web_url_problem(url) is not None:
        return None
    return link_button(label, url, name)
