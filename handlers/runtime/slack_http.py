"""HTTP POSTs to Slack (Web API calls and ``response_url`` replies) over pooled, kept-alive connections.

One urllib3 ``PoolManager`` for the process: urllib (under slack_sdk's clients) opens a new
connection for every call, and in production a new TLS session with it, more CPU and round trips
than the call itself. urllib3's pools are thread-safe, keep idle connections per host, and replace a
kept connection the server closed while it sat idle before reusing it.

Retries are slack_sdk's ``RetryHandler``s, driven through their public interface as slack_sdk's
own client drives them: a dropped connection once, 429 honouring ``Retry-After`` and Slack's 500/503
twice each (``retry_handlers``). urllib3 itself never retries (a POST sent twice could post twice)
and its errors are raised as the ``OSError``s urllib would have raised (``URLError`` for a refused
or dropped connection, ``TimeoutError``), so callers and retry handlers see what they always saw.
The caller's thread sleeps between tries: a follow-up or a background sender, never an ack.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import urllib3
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    RateLimitErrorRetryHandler,
    RetryHandler,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

# Connections kept per host: one per thread that may call Slack at once (listener pools, senders).
CONNECTIONS_PER_HOST = 64

_POOL = urllib3.PoolManager(maxsize=CONNECTIONS_PER_HOST, block=False, retries=False)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


def retry_handlers() -> list[RetryHandler]:
    """What is retried: a dropped connection once, 429 (after ``Retry-After``) and 500/503 twice."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=1),
        RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),  # Slack's own 500/503s are transient
    ]


_RETRIES = retry_handlers()  # handlers keep no state of their own (that is ``RetryState``)


def post(
    url: str, body: bytes, headers: Mapping[str, str], *, timeout: float,
    retries: Sequence[RetryHandler] = _RETRIES,
) -> Reply:  # fmt: skip
    """POST ``body`` to the http(s) ``url``, retrying as ``retries`` allow; the last answer, whatever its status."""
    if not url.lower().startswith(("http://", "https://")):
        raise urllib.error.URLError(f"not an http(s) URL: {url[:40]}")
    request = HttpRequest(method="POST", url=url, headers=dict(headers), data=body)
    state = RetryState()
    while True:
        state.next_attempt_requested = False
        try:
            reply = _post_once(url, body, headers, timeout)
        except OSError as error:
            if not _retry(retries, state, request, None, error):
                raise
            continue
        answer = HttpResponse(status_code=reply.status, headers=dict(reply.headers), data=reply.body)
        if not _retry(retries, state, request, answer, None):
            return reply


def _post_once(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
    try:
        response = _POOL.request(
            "POST", url, body=body, headers=dict(headers), timeout=timeout, retries=False, redirect=False
        )
    except urllib3.exceptions.NewConnectionError as error:
        raise urllib.error.URLError(error) from error
    except urllib3.exceptions.TimeoutError as error:
        raise TimeoutError(str(error)) from error
    except urllib3.exceptions.ProtocolError as error:
        # The connection broke (reset, closed before the answer): the OSError under urllib3's wrapper.
        cause = error.args[1] if len(error.args) > 1 else None
        raise (cause if isinstance(cause, OSError) else urllib.error.URLError(error)) from error
    except urllib3.exceptions.HTTPError as error:
        raise urllib.error.URLError(error) from error
    return Reply(response.status, response.headers, response.data)


def _retry(
    handlers: Sequence[RetryHandler], state: RetryState, request: HttpRequest,
    response: HttpResponse | None, error: Exception | None,
) -> bool:  # fmt: skip
    """Whether to send once more (the handler that takes it has waited as it should)."""
    for handler in handlers:
        if handler.can_retry(state=state, request=request, response=response, error=error):
            handler.prepare_for_next_attempt(state=state, request=request, response=response, error=error)
            return state.next_attempt_requested
    return False
