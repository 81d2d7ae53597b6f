"""A Slack Web API client whose calls go over the pooled connections of ``handlers.runtime.slack_http``.

slack_sdk's ``WebClient`` sends every call through ``urlopen`` (a new connection and TLS session
per call) and offers no public way to give it another transport: the only seam is a private method
(``_perform_urllib_http_request_internal``), which an upgrade may rename or change. So
``SlackWebClient`` overrides the public ``api_call``, which every ``WebClient`` method goes through,
and builds the request as ``WebClient`` does (token as a bearer header, JSON or form body, the
client's ``team_id`` default, booleans as 1/0); the answer is slack_sdk's own ``SlackResponse``,
validated as usual (``SlackApiError`` for ``ok: false`` or a non-200 status). File uploads, a proxy
or a custom SSL context take ``WebClient``'s own path, unchanged.
"""

from __future__ import annotations

import base64
import json as json_module
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError
from slack_sdk.web import SlackResponse

from handlers.runtime import slack_http

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json;charset=utf-8"


class SlackWebClient(WebClient):
    """A ``WebClient`` whose calls reuse pooled connections to Slack (see the module docstring)."""

    def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> SlackResponse:
        if files is not None or self.proxy or self.ssl is not None:
            return super().api_call(
                api_method, http_verb=http_verb, files=files, data=data, params=params, json=json,
                headers=headers, auth=auth,
            )  # fmt: skip
        if json is not None and http_verb != "POST":
            raise SlackRequestError("Json data can only be submitted as POST requests.")
        url = self.base_url + api_method.lstrip("/")  # base_url ends with "/" (BaseClient sees to it)
        token = self.token
        form: dict[str, Any] = {}
        for part in (params, data):
            if part is not None:
                form.update({k: v for k, v in part.items() if v is not None})
        if params is not None or data is not None:
            form = {**self.default_params, **form}
            token = form.pop("token", token)
        if json is not None:
            json = {**self.default_params, **json}
            token = json.pop("token", token)
        # The client's headers win over a call's, as in WebClient.api_call.
        request_headers = {"Content-Type": _JSON if json is not None else _FORM, **(headers or {}), **self.headers}
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        if auth is not None:
            request_headers["Authorization"] = _basic(auth)
        if json is not None:
            body = json_module.dumps(json).encode()
        else:
            body = urllib.parse.urlencode(_one_or_zero(form)).encode()
        reply = slack_http.post(url, body, request_headers, timeout=float(self.timeout), retries=self.retry_handlers)
        response = SlackResponse(
            client=self,
            http_verb="POST",
            api_url=url,
            req_args={"headers": request_headers, "data": {}, "params": form, "files": None, "json": json},
            data=_data(reply),
            headers=_headers(reply),
            status_code=reply.status,
        )
        response.validate()  # type: ignore[no-untyped-call]  # raises SlackApiError unless ok
        return response


MAX_CLIENTS = 2048  # workspaces' clients kept per app (least recently used dropped first)


class PooledClients:
    """Bolt middleware (``use``): listeners get a ``SlackWebClient`` in place of the plain WebClient
    Bolt builds for every request (same token, after authorization, and the same settings).

    One client per token and workspace, kept (at most ``max_clients``, least recently used
    dropped), not built per request: a ``SlackWebClient`` holds no state between calls. Keyed by
    the token itself, so a revoked or rotated token's client is never handed out again once
    authorization stops returning that token (``bot.slack.oauth.StoreAuthorize`` forgets it at once
    on ``app_uninstalled``/``tokens_revoked``)."""

    def __init__(self, max_clients: int = MAX_CLIENTS) -> None:
        self._max = max_clients
        self._clients: OrderedDict[tuple[object, ...], SlackWebClient] = OrderedDict()
        self._lock = threading.Lock()

    def use(self, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        client = context.client
        if client is not None and not isinstance(client, SlackWebClient):
            context["client"] = self._for(client, context.team_id)
        return next()

    def _for(self, client: WebClient, team_id: str | None) -> SlackWebClient:
        key = (client.token, team_id, client.base_url, client.timeout, tuple(sorted(client.headers.items())))
        with self._lock:
            pooled = self._clients.get(key)
            if pooled is not None:
                self._clients.move_to_end(key)
                return pooled
        pooled = SlackWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=client.headers,
            team_id=team_id,
            logger=client.logger,
            retry_handlers=client.retry_handlers,
        )
        if client.ssl is not None or client.proxy:  # not kept: those take WebClient's own path anyway
            return pooled
        with self._lock:
            self._clients[key] = pooled
            while len(self._clients) > self._max:
                self._clients.popitem(last=False)
        return pooled


def use_pooled_client(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """``PooledClients().use`` without keeping the clients (a client built for this request)."""
    return PooledClients(0).use(context, next)


def _basic(auth: dict[str, Any]) -> str:
    pair = f"{auth['client_id']}:{auth['client_secret']}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _one_or_zero(form: dict[str, Any]) -> dict[str, Any]:
    return {k: ("1" if v else "0") if isinstance(v, bool) else v for k, v in form.items()}


def _data(reply: slack_http.Reply) -> dict[str, Any] | bytes:
    if reply.headers.get("Content-Type", "").startswith("application/gzip"):
        return reply.body  # admin.analytics.getFile
    text = reply.body.decode("utf-8", "replace")  # Slack answers JSON, which is UTF-8
    try:
        data = json_module.loads(text)
    except ValueError:
        return {"ok": False, "error": f"Received a response in a non-JSON format: {text[:100]}"}
    return data if isinstance(data, dict) else {"ok": False, "error": "Received a non-object JSON response"}


def _headers(reply: slack_http.Reply) -> dict[str, str]:
    headers = dict(reply.headers)
    retry_after = reply.headers.get("Retry-After")
    if retry_after is not None:  # both spellings, as WebClient gives them
        headers["Retry-After"] = headers["retry-after"] = retry_after
    return headers
