"""A lean Slack Web API and ``response_url`` stand-in on asyncio, for load tests.

``devtools/loopback/slack_api.py`` records every call in full and runs a thread per connection;
under thousands of requests per second that costs more than the app being measured. This one
answers canned JSON and only notes *when* the call that completes an interaction arrived:

* ``response_url/<token>`` posts complete slash commands (key ``("response_url", token)``);
* the filled modal of trigger ``<token>`` completes a modal interaction (key ``("modal", "V<token>")``):
  a ``views.open`` with its content, or the ``views.update`` of the loading view it opened
  (``views.open`` answers with view id ``V<token>``);
* ``views.publish`` for a user completes an App Home event (key ``("views.publish", user)``).

Users come from :func:`bench.generate.user_email`, so any bench user is known without a directory.

With ``tiers`` (``devtools.loopback.slack_tiers``), Slack's published tiers are enforced per
(workspace, method), the workspace named by the bench's bot token (``xoxb-bench-<team>``), and
every DM delivered is counted by (channel, text) so a DM sent twice shows (the sweep section).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections import Counter
from typing import Any

from bench.generate import user_email
from bench.stripe_standin import stripe_answer
from devtools.loopback.slack_tiers import SlackTiers

Key = tuple[str, str]


class StandIn:
    """Serve on 127.0.0.1:<free port> in the running event loop; ``expect`` a key, await it."""

    def __init__(self, tiers: SlackTiers | None = None) -> None:
        self.tiers = tiers
        self.dms: Counter[tuple[str, str]] = Counter()  # (channel, text and blocks) of each DM delivered
        self.first_dm_at: float | None = None
        self.last_dm_at: float | None = None
        self.counts: Counter[str] = Counter()
        # Completions by kind (response_url, modal, views.publish), awaited or not: the wrk
        # section, which cannot await them, counts how many interactions finished in a window.
        self.finished: Counter[str] = Counter()
        self._waiters: dict[Key, asyncio.Future[float]] = {}
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> StandIn:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.root_url}/api/"

    def response_url(self, token: str) -> str:
        return f"{self.root_url}/response_url/{token}"

    def expect(self, key: Key) -> asyncio.Future[float]:
        """A future set to ``time.perf_counter()`` when the call named by ``key`` arrives."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters[key] = future
        return future

    def forget(self, key: Key) -> None:
        self._waiters.pop(key, None)

    def _arrived(self, key: Key) -> None:
        self.finished[key[0]] += 1
        future = self._waiters.pop(key, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                verb, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                status, payload = self._answer(target, headers.get("content-type", ""), body, headers, verb=verb)
                close = headers.get("connection", "").lower() == "close"
                retry = f"Retry-After: {status.split()[-1]}\r\n" if status.startswith("429") else ""
                status = "429 Too Many Requests" if retry else status
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                    f"{retry}Connection: {'close' if close else 'keep-alive'}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # A kept-alive connection still open when the benchmark stops the stand-in: nothing to
            # report (asyncio would print a traceback for every one of them otherwise).
            return
        finally:
            writer.close()

    def _answer(
        self,
        target: str,
        content_type: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        verb: str = "POST",
    ) -> tuple[str, bytes]:
        """(status, JSON); a 429 is ``"429 <Retry-After seconds>"``."""
        parsed = urllib.parse.urlsplit(target)
        path = parsed.path.strip("/")
        if path.startswith("response_url/"):
            self.counts["response_url"] += 1
            self._arrived(("response_url", path.split("/", 1)[1]))
            return "200 OK", b"ok"
        if path.startswith("v1/"):  # Stripe's card reads of a pay modal opened on an old copy
            self.counts[path.split("/")[1]] += 1
            code, answer = stripe_answer(verb, target)
            return f"{code} {'OK' if code == 200 else 'Not Found'}", json.dumps(answer).encode()
        method = path[4:] if path.startswith("api/") else path
        self.counts[method] += 1
        args = _args(parsed.query, content_type, body)
        token = (headers or {}).get("authorization", "")[7:].strip() or str(args.get("token", ""))
        workspace = token.removeprefix("xoxb-bench-") if token.startswith("xoxb-bench-") else ""
        if self.tiers is not None:
            channel = str(args.get("channel", "")) if method == "chat.postMessage" else None
            retry = self.tiers.check(workspace, method, _dm(channel) if channel else None)
            if retry is not None:
                return f"429 {retry}", b'{"ok": false, "error": "ratelimited"}'
        if method == "chat.postMessage":
            now = time.perf_counter()
            self.first_dm_at = self.first_dm_at or now
            self.last_dm_at = now
            shown = str(args.get("text", "")) + str(args.get("blocks", ""))
            self.dms[(_dm(str(args.get("channel", ""))), shown)] += 1
        return "200 OK", json.dumps(self._canned(method, args, workspace)).encode()

    def _canned(self, method: str, args: dict[str, Any], workspace: str = "") -> dict[str, Any]:
        if method == "users.info":
            user = str(args.get("user", ""))
            email = user_email(user)
            if email is None:
                return {"ok": False, "error": "user_not_found"}
            profile = {"email": email, "real_name": f"Bench {user}", "display_name": user}
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "team_id": workspace,  # the workspace of the token (OAuth bench), if named
                    "name": user,
                    "deleted": False,
                    "is_bot": False,
                    "tz": "UTC",
                    "tz_offset": 0,
                    "real_name": f"Bench {user}",
                    "profile": profile,
                },
            }
        if method == "auth.test":
            return {"ok": True, "team_id": "T111", "user_id": "UBOT", "bot_id": "B111", "team": "Bench"}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = _json(args.get("view"))
            if method == "views.open":
                view_id = "V" + str(args.get("trigger_id", ""))
            else:
                view_id = str(args.get("view_id") or "V0")
            if method == "views.update" or (method == "views.open" and not _loading(args.get("view"))):
                self._arrived(("modal", view_id))
            if method == "views.publish":
                self._arrived(("views.publish", str(args.get("user_id", ""))))
            return {"ok": True, "view": {**view, "id": view_id, "hash": "h", "state": {"values": {}}}}
        if method == "users.lookupByEmail":
            return {"ok": False, "error": "users_not_found"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))}}
        if method == "chat.postMessage":  # to a user id: Slack posts in the app's DM and names it
            return {"ok": True, "channel": _dm(str(args.get("channel", ""))), "ts": f"{time.time():.6f}"}
        if method in ("chat.postEphemeral", "chat.update"):
            return {"ok": True, "channel": str(args.get("channel", "")), "ts": f"{time.time():.6f}"}
        return {"ok": True}


def _dm(channel: str) -> str:
    return f"D{channel}" if channel[:1] in ("U", "W") else channel


def _loading(view: Any) -> bool:
    """Whether a view is the loading modal a flow puts up before filling it in (handlers.kit.surfaces)."""
    return "One moment" in (view if isinstance(view, str) else json.dumps(view))


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}


def _args(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    args: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
    if not body:
        return args
    if "json" in content_type:
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            args.update(decoded)
    else:
        args.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
    return args
