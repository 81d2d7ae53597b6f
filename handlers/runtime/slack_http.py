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

import http.client
import urllib.error
import urllib.parse
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

_POOL = urllib3.PoolManager(maxsize=CONNECTIONS_PER_HOST, block=False)
_NO_RETRIES = urllib3.Retry(total=False, redirect=False)  # built once: urllib3 would build one per call


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


# Calls that post something new: sent twice, they post twice. After a 5xx or a connection that
# broke once the request was on its way, Slack may have acted, so they are not sent again (a 429 is
# Slack saying it did nothing, and a refused connection never carried the request).
POSTING = ("chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "views.open", "views.push")


def posts_something_new(url: str) -> bool:
    """A Web API call in ``POSTING``, or a ``response_url`` reply (which may add a message)."""
    path = urllib.parse.urlsplit(url).path
    return path.rsplit("/", 1)[-1] in POSTING or "/api/" not in path


class _NotAfterItMayHaveLanded(RetryHandler):
    """``inner``, except for calls that post something new once Slack may have acted on them."""

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator)
        self._inner = inner

    def _can_retry(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:  # fmt: skip
        if posts_something_new(request.url) and not _not_acted_on(error):
            return False
        return self._inner._can_retry(state=state, request=request, response=response, error=error)


def _not_acted_on(error: Exception | None) -> bool:
    """A refused connection never carried the request; a kept-alive connection the server had
    already closed ends without any answer (``RemoteDisconnected``) before the request is read.
    A 5xx, a timeout or a reset in the middle may follow Slack acting on it."""
    if isinstance(error, urllib.error.URLError):
        return isinstance(error.reason, ConnectionRefusedError)
    return isinstance(error, http.client.RemoteDisconnected)


def retry_handlers() -> list[RetryHandler]:
    """What is retried: a dropped connection once, 429 (after ``Retry-After``) and 500/503 twice;
    a call that posts something new only when Slack cannot have acted on it (``POSTING``)."""
    return [
        _NotAfterItMayHaveLanded(ConnectionErrorRetryHandler(max_retry_count=1)),
        RateLimitErrorRetryHandler(max_retry_count=2),
        _NotAfterItMayHaveLanded(ServerErrorRetryHandler(max_retry_count=2)),  # Slack's own 500/503s
    ]


_RETRIES = retry_handlers()  # handlers keep no state of their own (that is ``RetryState``)


def post(
    url: str, body: bytes, headers: Mapping[str, str], *, timeout: float,
    retries: Sequence[RetryHandler] = _RETRIES,
) -> Reply:  # fmt: skip
    """POST ``body`` to the http(s) ``url``, retrying as ``retries`` allow; the last answer, whatever its status.

    A 2xx answer is final: the retry handlers are asked about errors and other statuses only.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise urllib.error.URLError(f"not an http(s) URL: {url[:40]}")
    pool = _POOL.connection_from_host(parts.hostname, parts.port, parts.scheme)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    state = RetryState()
    while True:
        state.next_attempt_requested = False
        try:
            reply = _post_once(pool, target, body, headers, timeout)
        except OSError as error:
            if not _retry(retries, state, url, headers, body, None, error):
                raise
            continue
        if 200 <= reply.status < 300:
            return reply
        answer = HttpResponse(status_code=reply.status, headers=dict(reply.headers), data=reply.body)
        if not _retry(retries, state, url, headers, body, answer, None):
            return reply


def _post_once(
    pool: urllib3.HTTPConnectionPool, target: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> Reply:
    try:
        response = pool.urlopen(
            "POST", target, body=body, headers=headers, retries=_NO_RETRIES, redirect=False,
            timeout=timeout, preload_content=True,
        )  # fmt: skip
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
    handlers: Sequence[RetryHandler], state: RetryState, url: str, headers: Mapping[str, str], body: bytes,
    response: HttpResponse | None, error: Exception | None,
) -> bool:  # fmt: skip
    """Whether to send once more (the handler that takes it has waited as it should)."""
    request = HttpRequest(method="POST", url=url, headers=dict(headers), data=body)
    for handler in handlers:
        if handler.can_retry(state=state, request=request, response=response, error=error):
            handler.prepare_for_next_attempt(state=state, request=request, response=response, error=error)
            return state.next_attempt_requested
    return False
