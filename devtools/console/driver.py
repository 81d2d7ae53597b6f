"""Plays Slack's side of the conversation: signed requests into the real Bolt app.

Requests are dispatched to ``App.dispatch`` as a ``BoltRequest`` made of the raw body and the
headers, which is what Bolt's HTTP adapters do with what Slack sends, so signature checks,
middleware, acks and lazy listeners all run as in production.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from devtools.console import requests
from devtools.console.display import Choice, Surface
from devtools.console.idle import TrackingExecutor
from devtools.console.workspace import Workspace

logger = logging.getLogger(__name__)

#: How long the console waits for the app to finish one answer before prompting anyway.
ANSWER_TIMEOUT = 60.0


class SlackDriver:
    """Sends what a person does in Slack to ``app``, and puts the acks on their screen."""

    def __init__(self, app: App, *, signing_secret: str, workspace: Workspace, executor: TrackingExecutor) -> None:
        """``executor``: the one ``app``'s listeners run on (``build_runtime(listener_executor=...)``)."""
        self.app = app
        self.workspace = workspace
        self._secret = signing_secret
        self.executor = executor
        # Bolt's advice to a developer about a request nobody handles: the console says it in words.
        app.logger.addFilter(_NoUnhandledAdvice())

    def close(self) -> None:
        self.executor.wait_idle(timeout=10)
        self.executor.shutdown(wait=False, cancel_futures=True)

    # -- what a person does ---------------------------------------------------------------------------

    def command(self, user_id: str, text: str, command: str = "/billing") -> None:
        """``user_id`` types ``/billing text`` in their DM with the app."""
        channel = self.workspace.dm_channel(user_id)
        body = requests.slash_command(
            text=text,
            command=command,
            user_id=user_id,
            user_name=self._user_name(user_id),
            team_id=self.workspace.team_id,
            channel_id=channel,
            response_url=self.workspace.response_url(user_id, channel),
            trigger_id=self.workspace.trigger_id(user_id),
        )
        unknown = f"Unknown command {command}: this app answers /billing (try /billing help)."
        response = self._send(body, requests.FORM, unhandled=unknown)
        self._show_command_ack(user_id, channel, response)
        self.wait()

    def click(self, choice: Choice) -> None:
        """Click a button or choose an option, on a message or a view."""
        surface, clickable = choice.surface, choice.clickable
        assert clickable is not None
        element = clickable.element
        action: dict[str, Any] = {
            "type": element.get("type"),
            "action_id": element.get("action_id", ""),
            "block_id": clickable.block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if element.get("type") == "button":
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
        else:
            action["selected_option"] = clickable.option
            surface.state.setdefault(clickable.block_id, {})[str(element.get("action_id", ""))] = {
                "type": element.get("type"),
                "selected_option": clickable.option,
            }
        payload = requests.block_actions(
            user=self._user(surface.user_id),
            team_id=self.workspace.team_id,
            action=action,
            trigger_id=self.workspace.trigger_id(surface.user_id),
            container=self._container(surface),
            extra=self._where(surface),
        )
        self._send(requests.interaction(payload), requests.FORM)
        self.wait()

    def submit(self, surface: Surface) -> dict[str, str]:
        """Submit a modal with its current state; returns the app's input errors (block id -> text)."""
        payload = requests.view_submission(
            user=self._user(surface.user_id),
            team_id=self.workspace.team_id,
            view=self.workspace.view_object(surface),
            trigger_id=self.workspace.trigger_id(surface.user_id),
        )
        response = self._send(requests.interaction(payload), requests.FORM)
        answer = _json(response)
        action = answer.get("response_action")
        if action == "errors":
            errors = answer.get("errors")
            self.wait()
            return {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {}
        if action == "update" and isinstance(answer.get("view"), dict):
            self.workspace.update_view(surface.view_id, answer["view"])
        elif action == "push" and isinstance(answer.get("view"), dict):
            self.workspace.push_view(surface.user_id, answer["view"])
        elif action == "clear":
            self.workspace.close_view(surface, all_=True)
        else:
            self.workspace.close_view(surface)
        self.wait()
        return {}

    def dismiss(self, surface: Surface) -> None:
        """Close a modal; the app hears of it only when the view asked (``notify_on_close``)."""
        self.workspace.close_view(surface)
        if surface.content.get("notify_on_close"):
            payload = requests.view_closed(
                user=self._user(surface.user_id),
                team_id=self.workspace.team_id,
                view=self.workspace.view_object(surface),
            )
            self._send(requests.interaction(payload), requests.FORM)
            self.wait()

    def message(self, user_id: str, text: str) -> None:
        """``user_id`` types ``text`` in their DM with the app (chat)."""
        body = requests.dm_message(
            user_id=user_id, team_id=self.workspace.team_id, channel=self.workspace.dm_channel(user_id), text=text
        )
        self._send(body, requests.JSON)
        self.wait()

    def open_home(self, user_id: str) -> None:
        """``user_id`` opens the app's Home tab."""
        self.workspace.opening_home(user_id)
        body = requests.app_home_opened(
            user_id=user_id, team_id=self.workspace.team_id, channel=self.workspace.dm_channel(user_id)
        )
        self._send(body, requests.JSON)
        self.wait()

    def wait(self) -> None:
        if not self.executor.wait_idle(timeout=ANSWER_TIMEOUT):
            self.workspace.display.say("(the app is still working; its answer will show up when it's done)")

    # -- plumbing ----------------------------------------------------------------------------------------

    def _send(self, body: str, content_type: str, *, unhandled: str = "") -> BoltResponse:
        """Dispatch one signed request; ``unhandled`` is what to say when no listener took it."""
        headers: dict[str, str | Sequence[str]] = dict(requests.signed_headers(self._secret, body, content_type))
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        if response.status == 404 and unhandled:
            self.workspace.display.say(unhandled)
        elif response.status >= 400:
            logger.warning("the app answered %s: %s", response.status, response.body[:200])
            self.workspace.display.say(f"(the app answered HTTP {response.status}; Slack would show an error)")
        return response

    def _show_command_ack(self, user_id: str, channel: str, response: BoltResponse) -> None:
        if response.status != 200 or not response.body:
            return
        answer = _json(response)
        message = answer if answer else {"text": response.body}
        if message.get("text") or message.get("blocks"):
            self.workspace.post_ephemeral(channel, user_id, message)

    def _user(self, user_id: str) -> dict[str, Any]:
        return requests.user_object(user_id, self._user_name(user_id), self.workspace.team_id)

    def _user_name(self, user_id: str) -> str:
        person = self.workspace.person(user_id)
        return person.email.split("@")[0] if person else user_id.lower()

    def _container(self, surface: Surface) -> dict[str, Any]:
        if surface.is_view:
            return {"type": "view", "view_id": surface.view_id}
        return {
            "type": "message",
            "message_ts": surface.ts,
            "channel_id": surface.channel,
            "is_ephemeral": surface.kind == "ephemeral",
        }

    def _where(self, surface: Surface) -> dict[str, Any]:
        if surface.is_view:
            return {"view": self.workspace.view_object(surface)}
        extra: dict[str, Any] = {
            "channel": {"id": surface.channel, "name": "directmessage"},
            "response_url": surface.response_url,
            "state": {"values": surface.state},
        }
        if surface.kind != "ephemeral":
            extra["message"] = {"type": "message", "ts": surface.ts, **surface.content}
        return extra


class _NoUnhandledAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unhandled request")


def _json(response: BoltResponse) -> dict[str, Any]:
    if not response.body:
        return {}
    try:
        parsed = json.loads(response.body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
