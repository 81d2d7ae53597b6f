"""Reading a webhook's body with a cap, a deadline, and a quiet end when the client goes away.

Starlette's ``request.body()`` reads whatever arrives into memory before anyone can look at its
size, waits as long as the client likes, and raises ``ClientDisconnect`` (an ERROR traceback) when
the client hangs up half way. Webhooks (``/slack/events``, ``/stripe/webhook``) read through
``capped_body`` instead: a ``Content-Length`` over the cap is refused before a byte is read (413),
a body without one is read in chunks and refused as soon as it passes the cap, a body still coming
after ``BODY_SECONDS`` is refused (408), and a hang-up is one INFO line.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

logger = logging.getLogger(__name__)

# Slack and Stripe send their whole body at once; a client still sending after this is not them.
BODY_SECONDS = 10.0


async def capped_body(request: Request, limit: int) -> bytes | Response:
    """The body, at most ``limit`` bytes; or the error response to send instead."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _refused(413, "request too large")
    try:
        async with asyncio.timeout(BODY_SECONDS):
            return await _read(request, limit)
    except TimeoutError:
        logger.info("a client took more than %.0f s to send a body to %s: refused", BODY_SECONDS, request.url.path)
        return _refused(408, "request body too slow")
    except ClientDisconnect:
        logger.info("a client hung up before sending the whole body to %s", request.url.path)
        return _refused(400, "incomplete request")


async def _read(request: Request, limit: int) -> bytes | Response:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _refused(413, "request too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _refused(status: int, message: str) -> Response:
    # Whatever is left of the body is never read: the connection is not reused.
    return JSONResponse({"error": message}, status_code=status, headers={"Connection": "close"})
