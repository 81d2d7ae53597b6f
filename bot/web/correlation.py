"""Correlation ids across threads: a request's id follows it into the follow-ups it starts.

HTTP requests get their id from ``bot.web.http``'s middleware; Socket Mode requests get one here.
Follow-ups run on Bolt's listener executor; ``ContextExecutor`` copies the submitting thread's
context variables into each task, so a listener logs under the id of the request it serves.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import BoltRequest, BoltResponse

from bot.logging_setup import new_correlation_id

T = TypeVar("T")


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's ``contextvars`` context."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)


def correlate(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Bolt middleware: a fresh correlation id for each Socket Mode request (HTTP has its own)."""
    if req.mode == "socket_mode":
        new_correlation_id()
    return next()


class RequestIdMiddleware:
    """ASGI middleware: a new correlation id per HTTP request, returned as ``X-Request-Id``.

    An id sent by the client is ignored: it is untrusted and would let anyone forge log lines' ids.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_correlation_id()

        async def send_with_id(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_id)
