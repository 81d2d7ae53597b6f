"""A tiny HTTP endpoint that records what is posted to it (e.g. Stripe webhooks).

Answers every request with a programmable status (default 200)::

    with HttpReceiver() as hooks:
        localstripe.register_webhook(hooks.url("/stripe/webhook"), "whsec_test")
        ...
        req = hooks.wait_for(lambda r: b"customer.created" in r.body)
"""

from __future__ import annotations

from collections.abc import Callable

from devtools.loopback.server import CallLog, Reply, StandInServer
from devtools.loopback.server import Request as ReceivedRequest

__all__ = ["HttpReceiver", "ReceivedRequest"]


class HttpReceiver(StandInServer):
    """Records requests on ``http://127.0.0.1:PORT/<any path>``."""

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status
        self._requests: CallLog[ReceivedRequest] = CallLog()

    def answer(self, request: ReceivedRequest) -> Reply:
        self._requests.add(request)
        return Reply.json({}, self.status)

    @property
    def requests(self) -> list[ReceivedRequest]:
        """All requests so far, oldest first."""
        return self._requests.entries()

    def clear(self) -> None:
        """Forget recorded requests."""
        self._requests.clear()

    def wait_for(
        self, predicate: Callable[[ReceivedRequest], bool] | None = None, timeout: float = 5.0
    ) -> ReceivedRequest:
        """First request matching ``predicate`` (any, if ``None``); ``TimeoutError`` otherwise."""

        def first(requests: list[ReceivedRequest]) -> ReceivedRequest | None:
            return next((r for r in requests if predicate is None or predicate(r)), None)

        found = self._requests.wait_until(
            first, timeout, lambda requests: f"no matching request in {timeout}s ({len(requests)} seen)"
        )
        assert found is not None
        return found
