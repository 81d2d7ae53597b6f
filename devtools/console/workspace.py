"""The pretend Slack workspace: its people, and the messages and views on their screens.

The Web API stand-in (``devtools.console.webapi``) turns the app's calls into changes here; each
change is drawn on the ``Display`` as the person would see it.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from devtools.console.display import Display, Surface, SurfaceKind


@dataclass(frozen=True)
class Person:
    """A member of the workspace, as ``users.info`` describes them."""

    id: str
    email: str
    name: str
    tz: str = "UTC"

    def to_api(self, team_id: str) -> dict[str, Any]:
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.email.split("@")[0],
            "real_name": self.name,
            "deleted": False,
            "is_bot": False,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": {"email": self.email, "real_name": self.name, "display_name": self.name.split(" ")[0]},
        }


@dataclass(frozen=True)
class ResponseTarget:
    """Where a ``response_url`` post lands: ``user_id``'s screen, replacing ``original`` if asked."""

    user_id: str
    channel: str
    original: Surface | None


class Workspace:
    """People, channels and what each person sees. Thread-safe."""

    def __init__(self, display: Display, *, team_id: str = "T0DEMO", root_url: str = "") -> None:
        self.display = display
        self.team_id = team_id
        self.root_url = root_url  # set by the Web API stand-in once it listens
        self._lock = threading.RLock()
        self._people: dict[str, Person] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._triggers: dict[str, str] = {}
        self._responses: dict[str, ResponseTarget] = {}
        self._views: dict[str, Surface] = {}
        self._modals: dict[str, list[Surface]] = {}
        self._messages: dict[tuple[str, str], Surface] = {}
        self._home_opening: set[str] = set()

    # -- people -------------------------------------------------------------------------------

    def add_person(self, email: str, name: str | None = None, tz: str = "UTC") -> Person:
        """The member with ``email``, added when new."""
        with self._lock:
            found = self.by_email(email)
            if found is not None:
                return found
            person = Person(f"U{next(self._ids):04d}DEMO", email, name or _name_from(email), tz)
            self._people[person.id] = person
            return person

    def person(self, user_id: str) -> Person | None:
        with self._lock:
            return self._people.get(user_id)

    def by_email(self, email: str) -> Person | None:
        with self._lock:
            wanted = email.strip().lower()
            return next((p for p in self._people.values() if p.email.lower() == wanted), None)

    def describe(self, user_id: str) -> str:
        person = self.person(user_id)
        return f"{person.name} <{person.email}>" if person else user_id

    @staticmethod
    def dm_channel(user_id: str) -> str:
        return "D" + user_id

    def user_of_channel(self, channel: str) -> str | None:
        if channel.startswith("D") and channel[1:] in self._people:
            return channel[1:]
        return channel if channel in self._people else None

    # -- what a request from this person carries ----------------------------------------------------

    def trigger_id(self, user_id: str) -> str:
        trigger = f"{int(time.time())}.{next(self._ids)}.{uuid.uuid4().hex[:12]}"
        with self._lock:
            self._triggers[trigger] = user_id
        return trigger

    def response_url(self, user_id: str, channel: str, original: Surface | None = None) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._responses[token] = ResponseTarget(user_id, channel, original)
        return f"{self.root_url}/response_url/{token}"

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    # -- messages -----------------------------------------------------------------------------------

    def post_message(self, channel: str, message: dict[str, Any]) -> Surface:
        user = self.user_of_channel(channel)
        kind: SurfaceKind = "dm" if user else "channel"
        surface = Surface(kind, user or self.display.viewer, _message(message), channel=channel, ts=self.next_ts())
        surface.response_url = self.response_url(surface.user_id, channel, surface)
        with self._lock:
            self._messages[(channel, surface.ts)] = surface
        self.display.show(surface)
        return surface

    def post_ephemeral(self, channel: str, user_id: str, message: dict[str, Any]) -> Surface:
        surface = Surface("ephemeral", user_id, _message(message), channel=channel, ts=self.next_ts())
        surface.response_url = self.response_url(user_id, channel, surface)
        self.display.show(surface)
        return surface

    def update_message(self, channel: str, ts: str, message: dict[str, Any]) -> Surface | None:
        with self._lock:
            surface = self._messages.get((channel, ts))
            if surface is None:
                return None
            surface.content = _message(message)
            surface.state = {}
        self.display.show(surface, "updated")
        return surface

    def respond(self, token: str, message: dict[str, Any]) -> bool:
        """A post to a ``response_url``; False when the URL is unknown."""
        with self._lock:
            target = self._responses.get(token)
        if target is None:
            return False
        original = target.original
        if message.get("delete_original") and original is not None:
            original.closed = True
            self.display.say("(the message was removed)")
            return True
        if message.get("replace_original") and original is not None:
            original.content = _message(message)
            original.state = {}
            self.display.show(original, "replaced")
            return True
        if message.get("response_type") == "in_channel":
            surface = Surface("channel", target.user_id, _message(message), channel=target.channel, ts=self.next_ts())
            surface.response_url = self.response_url(target.user_id, target.channel, surface)
            self.display.show(surface, "posted in the channel: everyone sees this")
            return True
        self.post_ephemeral(target.channel, target.user_id, message)
        return True

    # -- views --------------------------------------------------------------------------------------

    def open_view(self, trigger_id: str, view: dict[str, Any], *, push: bool) -> Surface | None:
        with self._lock:
            user_id = self._triggers.pop(trigger_id, None)
            if user_id is None:
                return None
            surface = Surface("modal", user_id, view, view_id=f"V{next(self._ids):08d}")
            surface.state = initial_state(view)
            stack = self._modals.setdefault(user_id, [])
            if not push:
                stack.clear()
            stack.append(surface)
            self._views[surface.view_id] = surface
        self.display.show(surface)
        return surface

    def update_view(self, view_id: str, view: dict[str, Any]) -> Surface | None:
        with self._lock:
            surface = self._views.get(view_id)
            if surface is None or surface.closed:
                return None
            surface.content = view
            surface.state = initial_state(view)
        self.display.show(surface, "updated")
        return surface

    def publish_home(self, user_id: str, view: dict[str, Any]) -> Surface:
        with self._lock:
            surface = next((s for s in self._views.values() if s.kind == "home" and s.user_id == user_id), None)
            if surface is None:
                surface = Surface("home", user_id, view, view_id=f"V{next(self._ids):08d}")
                self._views[surface.view_id] = surface
            surface.content = view
            surface.state = initial_state(view)
            opened = user_id in self._home_opening
            self._home_opening.discard(user_id)
        if opened:
            self.display.show(surface)
        else:
            self.display.say(f"(the App Home of {self.describe(user_id)} was updated: :home shows it)")
        return surface

    def opening_home(self, user_id: str) -> None:
        """``user_id`` is opening the Home tab: the next publish is drawn in full."""
        with self._lock:
            self._home_opening.add(user_id)

    def close_view(self, surface: Surface, *, all_: bool = False) -> None:
        """Close ``surface`` (and everything under it with ``all_``)."""
        with self._lock:
            stack = self._modals.get(surface.user_id, [])
            closing = list(stack) if all_ else [surface]
            for view in closing:
                view.closed = True
                if view in stack:
                    stack.remove(view)

    def push_view(self, user_id: str, view: dict[str, Any]) -> Surface:
        """A view pushed by a ``response_action: push`` answer."""
        trigger = self.trigger_id(user_id)
        pushed = self.open_view(trigger, view, push=True)
        assert pushed is not None
        return pushed

    def top_modal(self, user_id: str) -> Surface | None:
        with self._lock:
            stack = self._modals.get(user_id) or []
            return stack[-1] if stack else None

    def view_object(self, surface: Surface) -> dict[str, Any]:
        """The ``view`` of a ``view_submission`` or of a ``block_actions`` from a view."""
        view = dict(surface.content)
        view.update(
            {
                "id": surface.view_id,
                "team_id": self.team_id,
                "type": "home" if surface.kind == "home" else "modal",
                "state": {"values": surface.state},
                "hash": f"{surface.view_id}.h",
                "root_view_id": surface.view_id,
                "previous_view_id": None,
            }
        )
        view.setdefault("private_metadata", "")
        view.setdefault("callback_id", "")
        return view


def initial_state(view_or_message: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """State values before anyone touches an input: the initial options and values."""
    from devtools.console.inputs import initial_value

    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view_or_message.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element")
        if isinstance(element, dict) and element.get("action_id"):
            block_id = str(block.get("block_id") or "")
            values.setdefault(block_id, {})[str(element["action_id"])] = initial_value(element)
    return values


def _message(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: payload[key] for key in ("text", "blocks", "attachments") if key in payload}


def _name_from(email: str) -> str:
    local = email.split("@")[0].replace(".", " ").replace("_", " ")
    return " ".join(part.capitalize() for part in local.split()) or email
