"""A local stand-in for the Slack Web API (and for ``response_url``).

A :class:`~devtools.loopback.server.StandInServer` on 127.0.0.1 in a daemon
thread.  Point ``slack_sdk.WebClient(base_url=api.base_url)`` (or the app's
``SLACK_API_URL``) at :attr:`SlackAPI.base_url`.  Every request is recorded;
the common methods get realistic canned answers; faults (429 with
``Retry-After``, 5xx, ``ok: false`` errors), per-channel rate limiting and
artificial latency can be programmed.  All public methods are thread-safe.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from devtools.loopback.server import CallLog, Reply, Request, StandInServer
from devtools.loopback.slack_tiers import SlackTiers

__all__ = ["RESPONSE_URL_METHOD", "RecordedCall", "SlackAPI", "SlackUser"]

#: Pseudo method name under which ``response_url`` posts are recorded.
RESPONSE_URL_METHOD = "response_url"

_JSON_PREFIXES = ("[", "{")


@dataclass(frozen=True)
class RecordedCall:
    """One request received by the stand-in.

    :ivar method: Slack method (``chat.postMessage``) or ``"response_url"``.
    :ivar args: arguments as sent: form/query fields (``str``, or ``list[str]``
        when repeated) merged with a JSON body's top-level keys.
    :ivar json_args: like ``args`` but string values that hold JSON
        (``blocks``, ``view``, ``attachments`` ...) decoded.
    :ivar headers: request headers, keys lower-cased (``authorization`` ...).
    :ivar status: HTTP status the stand-in answered.
    :ivar response: JSON the stand-in answered (``None`` for text answers).
    """

    method: str
    args: dict[str, Any]
    json_args: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    http_method: str
    path: str
    status: int
    response: dict[str, Any] | None
    at: float = field(default_factory=time.time)
    response_token: str | None = None

    @property
    def token(self) -> str | None:
        """Bearer token from ``Authorization`` or the ``token`` argument."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        tok = self.args.get("token")
        return tok if isinstance(tok, str) else None

    @property
    def ok(self) -> bool:
        """HTTP 200 and (for API methods) ``"ok": true`` in the answer."""
        if self.status != 200:
            return False
        return self.response is None or bool(self.response.get("ok"))


@dataclass
class SlackUser:
    """A user in the stand-in's directory."""

    id: str
    email: str | None
    name: str
    tz: str = "America/New_York"
    tz_offset: int | None = None
    is_bot: bool = False
    deleted: bool = False
    team_id: str = "T111"
    enterprise_id: str | None = None  # an Enterprise Grid user
    also_in: tuple[str, ...] = ()  # other workspaces where Slack shows them (Slack Connect)

    def to_api(self) -> dict[str, Any]:
        """The ``user`` object Slack returns from ``users.info``."""
        offset = self.tz_offset
        if offset is None:
            utcoff = datetime.now(ZoneInfo(self.tz)).utcoffset()
            offset = int(utcoff.total_seconds()) if utcoff is not None else 0
        handle = (self.email or self.name).split("@")[0].lower().replace(" ", ".")
        profile: dict[str, Any] = {
            "real_name": self.name,
            "display_name": self.name.split(" ")[0],
            "real_name_normalized": self.name,
        }
        if self.email is not None:
            profile["email"] = self.email
        grid = {"enterprise_user": {"enterprise_id": self.enterprise_id}} if self.enterprise_id else {}
        return {
            **grid,
            "id": self.id,
            "team_id": self.team_id,
            "name": handle,
            "deleted": self.deleted,
            "real_name": self.name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": offset,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile,
        }


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    error: str
    remaining: int


def _parse_args(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    args: dict[str, Any] = {}

    def merge_form(text: str) -> None:
        for key, values in urllib.parse.parse_qs(text, keep_blank_values=True).items():
            args[key] = values[0] if len(values) == 1 else values

    merge_form(query)
    if body:
        text = body.decode("utf-8", errors="replace")
        if "json" in content_type or (not content_type and text.lstrip()[:1] in _JSON_PREFIXES):
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                args.update(decoded)
            elif decoded is not None:
                args["_json"] = decoded
        else:
            merge_form(text)
    return args


def _decode_json_strings(args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str) and value.lstrip()[:1] in _JSON_PREFIXES:
            try:
                out[key] = json.loads(value)
                continue
            except ValueError:
                pass
        out[key] = value
    return out


class SlackAPI(StandInServer):
    """Local Slack Web API stand-in.

    :param team_id: workspace id returned by ``auth.test`` and in user objects.
    :param bot_user_id: the bot's user id (``auth.test`` ``user_id``).
    :param bot_id: the bot id (``auth.test`` ``bot_id``).
    :param require_token: answer ``not_authed`` when no token is sent.
    """

    thread_name = "slack-api-stand-in"

    def __init__(
        self,
        *,
        team_id: str = "T111",
        bot_user_id: str = "UBOT",
        bot_id: str = "B111",
        app_id: str = "A111",
        require_token: bool = True,
    ) -> None:
        super().__init__()
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.require_token = require_token
        self._lock = threading.Lock()
        self._calls: CallLog[RecordedCall] = CallLog()
        self._users: dict[str, SlackUser] = {}
        self._token_teams: dict[str, str] = {}
        self._channels: dict[str, tuple[bool, list[str] | None]] = {}
        self._ext_shared: set[str] = set()
        self._expires: dict[str, float] = {}  # rotating access token -> when it stops working
        self._view_hashes: dict[str, str] = {}  # view id -> the hash of its current content
        self._refresh_tokens: dict[str, tuple[str, int]] = {}  # unused refresh token -> (team, first lifetime)
        self._token_counter = itertools.count(1)
        self.refreshes = 0  # successful oauth.v2.access refreshes
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str | None, float] = {}
        self._rate_limit: tuple[float, int] | None = None
        self._tiers: SlackTiers | None = None
        self._buckets: dict[str, tuple[float, float]] = {}
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self._response_url_uses: dict[str, int] = {}
        self._response_url_limit: int | None = None
        self._ts_base = int(time.time())
        self._ts_counter = itertools.count(1)
        self._view_counter = itertools.count(1)

    # -- addresses -------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: use as WebClient ``base_url`` / ``SLACK_API_URL``."""
        return f"{self.root_url}/api/"

    @property
    def response_url(self) -> str:
        """A fresh, unique ``response_url`` served by this stand-in."""
        return f"{self.root_url}/response_url/{uuid.uuid4().hex}"

    # -- directory -------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        email: str | None,
        name: str,
        tz: str = "America/New_York",
        *,
        tz_offset: int | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        also_in: tuple[str, ...] = (),
    ) -> SlackUser:
        """Add (or replace) a user for ``users.info`` / ``users.lookupByEmail``.

        ``email=None`` simulates an e-mail not visible to the app (no
        ``profile.email``; ``lookupByEmail`` cannot find it).  ``tz_offset``
        defaults to the zone's current UTC offset in seconds. ``team_id``: the user's own
        workspace (default: the stand-in's).
        """
        user = SlackUser(
            user_id, email, name, tz, tz_offset, is_bot, deleted, team_id or self.team_id, enterprise_id, also_in
        )
        with self._lock:
            self._users[user_id] = user
        return user

    def remove_user(self, user_id: str) -> None:
        """Remove a user from the directory (no error if absent)."""
        with self._lock:
            self._users.pop(user_id, None)

    # -- programming -----------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
        error: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail.

        * ``status=429``: ``Retry-After: retry_after`` and
          ``{"ok": false, "error": "ratelimited"}``.
        * ``status>=500``: ``{"ok": false, "error": "internal_error"}``.
        * ``status=200`` with ``error``: a normal Slack error answer,
          e.g. ``error="channel_not_found"``.
        ``method`` may be ``"response_url"`` or ``"*"`` (any method).
        """
        default = {429: "ratelimited"}.get(status, "internal_error" if status >= 500 else "error")
        fault = _Fault(status, retry_after if status == 429 else None, error or default, count)
        with self._lock:
            self._faults.setdefault(method, deque()).append(fault)

    def set_delay(self, seconds: float, method: str | None = None) -> None:
        """Delay every answer (``method=None``) or one method's answers by ``seconds``."""
        with self._lock:
            if seconds <= 0:
                self._delays.pop(method, None)
            else:
                self._delays[method] = seconds

    def enforce_rate_limits(self, enabled: bool = True, per_channel_interval: float = 1.0, burst: int = 1) -> None:
        """Rate-limit ``chat.postMessage`` per channel (token bucket).

        Each channel gets ``burst`` messages, refilled at one per
        ``per_channel_interval`` seconds; beyond that the call gets 429 with
        ``Retry-After`` (whole seconds, rounded up).
        """
        with self._lock:
            self._rate_limit = (per_channel_interval, burst) if enabled else None
            self._buckets.clear()

    def enforce_tiers(self, tiers: SlackTiers | None) -> None:
        """Keep Slack's tiers per (workspace, method) with ``tiers`` (``devtools.loopback.slack_tiers``),
        which also records calls sent inside a ``Retry-After`` window and each method's peak a minute."""
        with self._lock:
            self._tiers = tiers

    def limit_response_url_uses(self, limit: int | None = 5) -> None:
        """After ``limit`` posts to one ``response_url``, answer 404 ``used_url``."""
        with self._lock:
            self._response_url_limit = limit

    def set_handler(self, method: str, handler: Callable[[dict[str, Any]], dict[str, Any]] | None) -> None:
        """Override the canned answer of ``method``: ``handler(json_args) -> response``."""
        with self._lock:
            if handler is None:
                self._handlers.pop(method, None)
            else:
                self._handlers[method] = handler

    # -- inspection ------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Every recorded call (including failed ones), optionally of one method."""
        return [c for c in self._calls.entries() if method is None or c.method == method]

    def last(self, method: str | None = None) -> RecordedCall:
        """The most recent call (of ``method``); ``LookupError`` if none."""
        found = self.calls(method)
        if not found:
            raise LookupError(f"no {method or 'API'} call recorded")
        return found[-1]

    def response_url_posts(self, response_url: str | None = None) -> list[RecordedCall]:
        """Posts to ``response_url``s (all, or those to one URL)."""
        token = response_url.rstrip("/").rsplit("/", 1)[-1] if response_url else None
        return [c for c in self.calls(RESPONSE_URL_METHOD) if token is None or c.response_token == token]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedCall]:
        """Block until at least ``count`` calls of ``method`` arrived; return them.

        Raises ``TimeoutError`` listing what did arrive.
        """

        def arrived(calls: list[RecordedCall]) -> list[RecordedCall]:
            found = [c for c in calls if c.method == method]
            return found if len(found) >= count else []

        def missing(calls: list[RecordedCall]) -> str:
            found = [c for c in calls if c.method == method]
            return f"expected {count} {method} call(s), got {len(found)}; calls: {[c.method for c in calls]}"

        return self._calls.wait_until(arrived, timeout, missing)

    def clear(self) -> None:
        """Forget recorded calls, faults, rate-limit buckets and response_url uses.

        The user directory, delays and handlers are kept.
        """
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._buckets.clear()
            self._response_url_uses.clear()

    # -- request handling ------------------------------------------------

    def _next_ts(self) -> str:
        return f"{self._ts_base}.{next(self._ts_counter):06d}"

    def answer(self, request: Request) -> Reply:
        """Answer like Slack (or as programmed) and record the call."""
        http_method, headers, body = request.method, request.headers, request.body
        parsed = urllib.parse.urlsplit(request.path)
        path = parsed.path.strip("/")
        args = _parse_args(parsed.query, body, headers.get("content-type", ""))
        json_args = _decode_json_strings(args)
        response_token: str | None = None
        if path.startswith("response_url/"):
            method = RESPONSE_URL_METHOD
            response_token = path.split("/", 1)[1]
        else:
            method = path[4:] if path.startswith("api/") else path

        with self._lock:
            delay = self._delays.get(method, self._delays.get(None, 0.0))
        if delay:
            time.sleep(delay)

        with self._lock:
            status, extra_headers, response, text = self._answer(method, args, json_args, headers, response_token)
            self._calls.add(
                RecordedCall(
                    method=method,
                    args=args,
                    json_args=json_args,
                    headers=headers,
                    body=body,
                    http_method=http_method,
                    path=parsed.path,
                    status=status,
                    response=response,
                    response_token=response_token,
                )
            )
        if response is not None:
            return Reply.json(response, status, content_type="application/json; charset=utf-8", headers=extra_headers)
        return Reply(status, (text or "").encode(), {**extra_headers, "Content-Type": "text/plain; charset=utf-8"})

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method, "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                return fault
        return None

    def _rate_limited(self, channel: str) -> int | None:
        """Return Retry-After seconds if this postMessage exceeds the channel budget."""
        if self._rate_limit is None:
            return None
        interval, burst = self._rate_limit
        now = time.monotonic()
        tokens, stamp = self._buckets.get(channel, (float(burst), now))
        tokens = min(float(burst), tokens + (now - stamp) / interval)
        if tokens >= 1.0:
            self._buckets[channel] = (tokens - 1.0, now)
            return None
        self._buckets[channel] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) * interval))

    def _answer(
        self,
        method: str,
        args: dict[str, Any],
        json_args: dict[str, Any],
        headers: dict[str, str],
        response_token: str | None,
    ) -> tuple[int, dict[str, str], dict[str, Any] | None, str | None]:
        fault = self._take_fault(method)
        if fault is not None:
            if fault.status == 429:
                hdrs = {"Retry-After": str(1 if fault.retry_after is None else fault.retry_after)}
                return 429, hdrs, {"ok": False, "error": fault.error}, None
            if method == RESPONSE_URL_METHOD and fault.status != 200:
                return fault.status, {}, None, fault.error
            return fault.status, {}, {"ok": False, "error": fault.error}, None

        if method == RESPONSE_URL_METHOD:
            assert response_token is not None
            uses = self._response_url_uses.get(response_token, 0) + 1
            self._response_url_uses[response_token] = uses
            if self._response_url_limit is not None and uses > self._response_url_limit:
                return 404, {}, None, "used_url"
            return 200, {}, None, "ok"

        if method == "oauth.v2.access" and args.get("grant_type") == "refresh_token":
            return 200, {}, self._refresh(args), None

        if self.require_token and not (
            headers.get("authorization", "").lower().startswith("bearer ") or args.get("token")
        ):
            return 200, {}, {"ok": False, "error": "not_authed"}, None

        expires_at = self._expires.get(str(self._token_of(headers, args)))
        if expires_at is not None and time.time() >= expires_at:
            return 200, {}, {"ok": False, "error": "token_expired"}, None

        if self._tiers is not None:
            workspace = self._workspace_of(headers, args) or self.team_id
            channel = self._dm_channel(str(json_args.get("channel") or "")) if method == "chat.postMessage" else None
            tier_retry = self._tiers.check(workspace, method, channel)
            if tier_retry is not None:
                return 429, {"Retry-After": str(tier_retry)}, {"ok": False, "error": "ratelimited"}, None

        if method == "chat.postMessage":
            channel = str(json_args.get("channel") or "")
            if channel:
                retry = self._rate_limited(self._dm_channel(channel))
                if retry is not None:
                    return 429, {"Retry-After": str(retry)}, {"ok": False, "error": "ratelimited"}, None

        handler = self._handlers.get(method)
        if handler is not None:
            return 200, {}, handler(json_args), None
        return 200, {}, self._canned(method, json_args, self._workspace_of(headers, args)), None

    # -- several workspaces ----------------------------------------------

    def add_workspace(self, team_id: str, token: str) -> None:
        """Calls with ``token`` come from workspace ``team_id``: they see only its people."""
        with self._lock:
            self._token_teams[token] = team_id

    def issue_rotating_token(self, team_id: str, *, expires_in: int = 43200) -> tuple[str, str, int]:
        """A bot token of workspace ``team_id`` that stops working after ``expires_in`` seconds (calls
        with it then answer ``token_expired``), and its refresh token, which ``oauth.v2.access``
        (``grant_type=refresh_token``) exchanges once: a second use answers ``invalid_refresh_token``.
        Returns (access token, refresh token, expiry in unix seconds)."""
        with self._lock:
            return self._issue(team_id, expires_in)

    def _issue(self, team_id: str, expires_in: int) -> tuple[str, str, int]:
        n = next(self._token_counter)
        access, refresh = f"xoxe.xoxb-{team_id}-{n}", f"xoxe-1-{team_id}-{n}"
        expires_at = time.time() + expires_in
        self._token_teams[access] = team_id
        self._expires[access] = expires_at
        self._refresh_tokens[refresh] = (team_id, expires_in)
        return access, refresh, int(expires_at)

    def _refresh(self, args: dict[str, Any]) -> dict[str, Any]:
        known = self._refresh_tokens.pop(str(args.get("refresh_token") or ""), None)
        if known is None:  # unknown, or used already: Slack revokes a refresh token once exchanged
            return {"ok": False, "error": "invalid_refresh_token"}
        team_id, _first_lifetime = known
        lifetime = 43200  # "With token rotation, it expires every 12 hours"
        access, refresh, _ = self._issue(team_id, lifetime)
        self.refreshes += 1
        return {
            "ok": True,
            "app_id": self.app_id,
            "token_type": "bot",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": lifetime,
            "bot_user_id": self.bot_user_id,
            "team": {"id": team_id},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def add_channel(
        self, channel_id: str, *, private: bool = True, members: list[str] | None = None, ext_shared: bool = False
    ) -> None:
        """A channel for ``conversations.info`` / ``conversations.members`` (unknown ones: private, everyone,
        unshared). ``ext_shared``: shared with another organization over Slack Connect (``is_ext_shared``)."""
        with self._lock:
            self._channels[channel_id] = (private, members)
            if ext_shared:
                self._ext_shared.add(channel_id)
            else:
                self._ext_shared.discard(channel_id)

    def _workspace_of(self, headers: dict[str, str], args: dict[str, Any]) -> str | None:
        token = self._token_of(headers, args)
        return self._token_teams.get(str(token)) if token else None

    @staticmethod
    def _token_of(headers: dict[str, str], args: dict[str, Any]) -> Any:
        auth = headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else args.get("token")

    def _visible(self, user: SlackUser | None, workspace: str | None) -> SlackUser | None:
        if user is None or workspace is None:
            return user
        return user if workspace == user.team_id or workspace in user.also_in else None

    def _dm_channel(self, channel: str) -> str:
        return f"D{channel}" if channel[:1] in ("U", "W") else channel

    def _message(self, json_args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "text": json_args.get("text", ""),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in json_args:
                message[key] = json_args[key]
        return message

    def _canned(self, method: str, a: dict[str, Any], workspace: str | None = None) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "billing-bot",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user = self._visible(self._users.get(str(a.get("user", ""))), workspace)
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user.to_api()}
        if method == "users.lookupByEmail":
            email = str(a.get("email", "")).strip().lower()
            for candidate in self._users.values():
                user = self._visible(candidate, workspace)
                if user is not None and user.email is not None and user.email.lower() == email and not user.deleted:
                    return {"ok": True, "user": user.to_api()}
            return {"ok": False, "error": "users_not_found"}
        if method in ("conversations.info", "conversations.members"):
            channel = str(a.get("channel", ""))
            private, members = self._channels.get(channel, (True, None))
            if method == "conversations.info":
                return {
                    "ok": True,
                    "channel": {
                        "id": channel,
                        "is_private": private,
                        "is_channel": not private,
                        "is_ext_shared": channel in self._ext_shared,
                    },
                }
            return {
                "ok": True,
                "members": list(self._users) if members is None else list(members),
                "response_metadata": {"next_cursor": ""},
            }
        if method == "conversations.open":
            if a.get("channel"):
                return {"ok": True, "channel": {"id": str(a["channel"])}}
            users = str(a.get("users", "")).split(",")
            users = [u.strip() for u in users if u.strip()]
            if not users:
                return {"ok": False, "error": "users_list_not_supplied"}
            if len(users) == 1:
                if users[0] in self._users and self._users[users[0]].deleted:
                    return {"ok": False, "error": "user_disabled"}
                return {"ok": True, "channel": {"id": f"D{users[0]}"}}
            return {"ok": True, "channel": {"id": "G" + "".join(sorted(users))}}
        if method == "chat.postMessage":
            channel = str(a.get("channel") or "")
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if not (a.get("text") or a.get("blocks") or a.get("attachments")):
                return {"ok": False, "error": "no_text"}
            ts = self._next_ts()
            channel = self._dm_channel(channel)
            return {"ok": True, "channel": channel, "ts": ts, "message": self._message(a, ts)}
        if method == "conversations.history":  # what was posted there, newest first, metadata included
            # As Slack: a thread's replies are not in the channel's history (conversations.replies).
            channel = str(a.get("channel") or "")
            posted = [
                c.response["message"]
                for c in self._calls.entries()
                if c.method == "chat.postMessage"
                and c.ok
                and isinstance(c.response, dict)
                and c.response.get("channel") == channel
                and c.response["message"].get("thread_ts") in (None, c.response["message"].get("ts"))
            ]
            return {"ok": True, "messages": posted[::-1][: int(a.get("limit") or 100)], "has_more": False}
        if method == "conversations.replies":  # a thread: its parent, then its replies, oldest first
            channel, parent = str(a.get("channel") or ""), str(a.get("ts") or "")
            thread = [
                c.response["message"]
                for c in self._calls.entries()
                if c.method == "chat.postMessage"
                and c.ok
                and isinstance(c.response, dict)
                and c.response.get("channel") == channel
                and parent in (c.response["message"].get("ts"), c.response["message"].get("thread_ts"))
            ]
            if not thread:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": thread[: int(a.get("limit") or 1000)], "has_more": False}
        if method == "chat.postEphemeral":
            if not a.get("channel") or not a.get("user"):
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            if not a.get("channel") or not a.get("ts"):
                return {"ok": False, "error": "message_not_found"}
            ts = str(a["ts"])
            return {
                "ok": True,
                "channel": str(a["channel"]),
                "ts": ts,
                "text": a.get("text", ""),
                "message": self._message(a, ts),
            }
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = a.get("view")
            if not isinstance(view, dict):
                return {"ok": False, "error": "invalid_arguments"}
            n = next(self._view_counter)
            view_id = str(a.get("view_id") or f"V{n:09d}")
            # Slack refuses an update whose ``hash`` is not the view's current one (it changed since).
            if method == "views.update" and a.get("hash") and self._view_hashes.get(view_id) != a.get("hash"):
                return {"ok": False, "error": "hash_conflict"}
            out = dict(view)
            out.update(
                {
                    "id": view_id,
                    "team_id": self.team_id,
                    "app_id": self.app_id,
                    "bot_id": self.bot_id,
                    "hash": f"{time.time():.6f}.h{n}",
                    "root_view_id": view_id,
                    "previous_view_id": None,
                    "state": {"values": {}},
                }
            )
            self._view_hashes[view_id] = str(out["hash"])
            out.setdefault("private_metadata", "")
            out.setdefault("callback_id", "")
            if method == "views.publish":
                out["type"] = "home"
            return {"ok": True, "view": out}
        return {"ok": True}
