"""The "View invoice" link button, wherever an invoice with a document (``document_url``) is shown.

A link button still posts a ``block_actions`` event when clicked; its ``link_`` action id is acked
by the no-op listener in ``handlers/navigation.py``.
"""

from __future__ import annotations

from handlers.kit.blocks import Block, link_button

MAX_BUTTON_URL = 3000  # Block Kit's limit for a button's url
VIEW_INVOICE = "view_invoice"  # action id: link_view_invoice


def view_invoice_button(url: str | None) -> Block | None:
    """The button, or None without a usable http(s) URL (the import checked it; this re-checks)."""
    if not url or len(url) > MAX_BUTTON_URL or not url.lower().startswith(("http://", "https://")):
        return None
    return link_button("View invoice", url, VIEW_INVOICE)
