"""What the person at the terminal sees: surfaces drawn as text, and the numbers to choose by.

Numbering restarts with the first clickable thing drawn after the person's last input, so the
numbers on screen are always the ones that work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from devtools.console.render import Clickable, render_blocks, render_view, text_of

SurfaceKind = Literal["ephemeral", "dm", "channel", "modal", "home"]
ChoiceKind = Literal["element", "submit", "close"]

#: State values of one surface as Slack sends them: ``{block_id: {action_id: {...}}}``.
StateValues = dict[str, dict[str, dict[str, Any]]]


@dataclass
class Surface:
    """A message or a view on the (pretend) Slack screen of ``user_id``."""

    kind: SurfaceKind
    user_id: str
    content: dict[str, Any]  # a message ({"text", "blocks"}) or a view
    channel: str = ""
    ts: str = ""
    view_id: str = ""
    response_url: str = ""
    state: StateValues = field(default_factory=dict)
    closed: bool = False

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.content.get("blocks") or [])

    @property
    def is_view(self) -> bool:
        return self.kind in ("modal", "home")


@dataclass(frozen=True)
class Choice:
    """A numbered thing the person can choose."""

    number: int
    surface: Surface
    kind: ChoiceKind
    clickable: Clickable | None = None


class Display:
    """Draws surfaces through ``write`` and remembers what each number chooses. Thread-safe."""

    def __init__(self, write: Callable[[str], None], describe_user: Callable[[str], str]) -> None:
        self._write = write
        self._describe_user = describe_user
        self._lock = threading.RLock()
        self._choices: dict[int, Choice] = {}
        self._fresh_turn = True
        self.viewer = ""  # the Slack user id at the keyboard

    def new_turn(self) -> None:
        """The person typed something: the next numbered thing drawn starts again at 1."""
        with self._lock:
            self._fresh_turn = True

    def choice(self, number: int) -> Choice | None:
        with self._lock:
            return self._choices.get(number)

    def say(self, text: str) -> None:
        """A line from the console itself (not from Slack)."""
        with self._lock:
            self._write(text)

    def show(self, surface: Surface, note: str = "") -> None:
        """Draw ``surface`` with a header saying where it is and who sees it."""
        with self._lock:
            self._forget(surface)
            body = self._body(surface)
            header = self._header(surface) + (f" · {note}" if note else "")
            lines = [f"┌─ {header}", *("│ " + line if line else "│" for line in body), "└─"]
            self._write("\n".join(lines))

    def _number(self, surface: Surface, kind: ChoiceKind, clickable: Clickable | None = None) -> int:
        if self._fresh_turn:
            self._choices.clear()
            self._fresh_turn = False
        number = max(self._choices, default=0) + 1
        self._choices[number] = Choice(number, surface, kind, clickable)
        return number

    def _forget(self, surface: Surface) -> None:
        """A redrawn surface's old numbers stop working (its new ones replace them)."""
        for number in [n for n, c in self._choices.items() if c.surface is surface]:
            del self._choices[number]

    def _body(self, surface: Surface) -> list[str]:
        def on_choice(clickable: Clickable) -> int:
            return self._number(surface, "element", clickable)

        if surface.is_view:

            def footer(kind: str) -> int:
                return self._number(surface, "submit" if kind == "submit" else "close")

            lines = render_view(surface.content, on_choice, submit=footer)
            return lines[1:]  # the title is in the header
        lines = render_blocks(surface.blocks, on_choice)
        return lines or [text_of(str(surface.content.get("text") or ""))]

    def _header(self, surface: Surface) -> str:
        whose = "" if surface.user_id == self.viewer else f" · for {self._describe_user(surface.user_id)}"
        if surface.kind == "ephemeral":
            return f"Billing · ephemeral, only visible to you{whose}"
        if surface.kind == "dm":
            return f"Billing · DM to {self._describe_user(surface.user_id)}"
        if surface.kind == "home":
            return f"App Home of {self._describe_user(surface.user_id)}"
        if surface.kind == "modal":
            return f"Modal: {text_of(surface.content.get('title'))}{whose}"
        return f"Billing · message in {surface.channel}"
