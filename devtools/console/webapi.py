"""The Slack Web API, answered in-process on a loopback port.

The app's ``WebClient`` talks to it over HTTP exactly as it would to slack.com (``base_url``):
directory look-ups come from the ``Workspace``; messages and views are drawn on the terminal.
``response_url`` posts are served here too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any, Self

from devtools.console.workspace import Workspace
from devtools.loopback.server import Reply, Request, StandInServer

logger = logging.getLogger(__name__)

Answer = dict[str, Any]


def parse_arguments(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Form, query and JSON arguments merged; string values holding JSON decoded."""
    args: dict[str, Any] = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip()[:1] == "{":
        try:
            decoded = json.loads(text) if text.strip() else {}
        except ValueError:
            decoded = {}
        if isinstance(decoded, dict):
            args.update(decoded)
    else:
        args.update({k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()})
    for key in ("blocks", "view", "attachments"):
        value = args.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


class SlackWebAPI(StandInServer):
    """Serves ``/api/<method>`` and ``/response_url/<token>`` on 127.0.0.1 for one ``Workspace``."""

    thread_name = "slack-web-api"
    poll_interval = 0.1

    def __init__(self, workspace: Workspace, *, bot_user_id: str = "UBILLINGBOT") -> None:
        super().__init__()
        self.workspace = workspace
        self.bot_user_id = bot_user_id
        self._methods: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._lookup_by_email,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "views.open": lambda a: self._open(a, push=False),
            "views.push": lambda a: self._open(a, push=True),
            "views.update": self._views_update,
            "views.publish": self._publish,
        }

    def start(self) -> Self:
        """Serve, and tell the workspace where its ``response_url`` s live."""
        super().start()
        self.workspace.root_url = self.root_url
        return self

    def answer(self, request: Request) -> Reply:
        status, answer = self.handle(request.path, request.body, request.headers.get("content-type", ""))
        return Reply.json(answer, status) if isinstance(answer, dict) else Reply.text(answer, status)

    @property
    def base_url(self) -> str:
        """Use as ``SLACK_API_URL`` / the WebClient's ``base_url``."""
        return f"{self.root_url}/api/"

    def handle(self, path: str, body: bytes, content_type: str) -> tuple[int, Answer | str]:
        """One request: ``(status, JSON answer or text)``."""
        parsed = urllib.parse.urlsplit(path)
        args = parse_arguments(parsed.query, body, content_type)
        try:
            if parsed.path.startswith("/response_url/"):
                token = parsed.path.rsplit("/", 1)[-1]
                return (200, "ok") if self.workspace.respond(token, args) else (404, "no_response_url")
            if not parsed.path.startswith("/api/"):
                return 404, "not found"
            method = self._methods.get(parsed.path[len("/api/") :])
            if method is None:
                return 200, {"ok": True}
            return 200, method(args)
        except Exception:
            logger.exception("the Slack stand-in failed on %s", parsed.path)
            return 500, {"ok": False, "error": "internal_error"}

    # -- methods --------------------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> Answer:
        return {
            "ok": True,
            "team_id": self.workspace.team_id,
            "team": "Demo",
            "user_id": self.bot_user_id,
            "bot_id": "BDEMO",
            "url": "https://demo.slack.invalid/",
        }

    def _users_info(self, args: dict[str, Any]) -> Answer:
        person = self.workspace.person(str(args.get("user") or ""))
        if person is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": person.to_api(self.workspace.team_id)}

    def _lookup_by_email(self, args: dict[str, Any]) -> Answer:
        person = self.workspace.by_email(str(args.get("email") or ""))
        if person is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": person.to_api(self.workspace.team_id)}

    def _conversations_open(self, args: dict[str, Any]) -> Answer:
        users = [u for u in str(args.get("users") or "").split(",") if u.strip()]
        if len(users) != 1 or self.workspace.person(users[0].strip()) is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.workspace.dm_channel(users[0].strip())}}

    def _post_message(self, args: dict[str, Any]) -> Answer:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if self.workspace.person(channel) is not None:  # posting to a user id means their DM
            channel = self.workspace.dm_channel(channel)
        surface = self.workspace.post_message(channel, args)
        return {"ok": True, "channel": channel, "ts": surface.ts, "message": {"ts": surface.ts, **surface.content}}

    def _post_ephemeral(self, args: dict[str, Any]) -> Answer:
        user, channel = str(args.get("user") or ""), str(args.get("channel") or "")
        if not user or not channel:
            return {"ok": False, "error": "channel_not_found"}
        surface = self.workspace.post_ephemeral(channel, user, args)
        return {"ok": True, "message_ts": surface.ts}

    def _update(self, args: dict[str, Any]) -> Answer:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        if self.workspace.update_message(channel, ts, args) is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel, "ts": ts}

    def _open(self, args: dict[str, Any], *, push: bool) -> Answer:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        surface = self.workspace.open_view(str(args.get("trigger_id") or ""), view, push=push)
        if surface is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        return {"ok": True, "view": self.workspace.view_object(surface)}

    def _views_update(self, args: dict[str, Any]) -> Answer:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        surface = self.workspace.update_view(str(args.get("view_id") or ""), view)
        if surface is None:
            return {"ok": False, "error": "not_found"}
        return {"ok": True, "view": self.workspace.view_object(surface)}

    def _publish(self, args: dict[str, Any]) -> Answer:
        view, user = args.get("view"), str(args.get("user_id") or "")
        if not isinstance(view, dict) or self.workspace.person(user) is None:
            return {"ok": False, "error": "invalid_arguments"}
        surface = self.workspace.publish_home(user, view)
        return {"ok": True, "view": self.workspace.view_object(surface)}
