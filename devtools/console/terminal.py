"""Reading lines: a line-editing prompt with history on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import IO, Any


class PlainReader:
    """Lines from a stream (a script, a pipe); each is echoed after its prompt for a readable transcript.

    Something the app prints while the reader waits (a DM, a Home update) ends the prompt's line
    and the prompt is drawn again under it, as a terminal shows it: the next typed line still
    follows its prompt in the transcript."""

    def __init__(self, stream: IO[str], out: IO[str]) -> None:
        self._stream = stream
        self._out = out
        self._lock = threading.Lock()
        self._waiting_prompt: str | None = None

    def __call__(self, prompt: str) -> str | None:
        with self._lock:
            self._out.write(prompt)
            self._out.flush()
            self._waiting_prompt = prompt
        try:
            line = self._stream.readline()
        finally:  # Ctrl-C while waiting: the prompt is no longer waiting either
            with self._lock:
                self._waiting_prompt = None
        with self._lock:
            self._out.write((line if line.endswith("\n") else line + "\n") if line else "\n")
            self._out.flush()
        return line.rstrip("\n") if line else None

    def write(self, text: str) -> None:
        """Print ``text`` on its own lines, redrawing the prompt after it when one is waiting."""
        with self._lock:
            waiting = self._waiting_prompt
            self._out.write(("\n" if waiting is not None else "") + text + "\n" + (waiting or ""))
            self._out.flush()


def card_safe_history(history_file: Path) -> Any:
    """A prompt_toolkit ``FileHistory`` that never keeps a card-like line (in memory or in the file)."""
    from prompt_toolkit.history import FileHistory

    from billing_core.card_guard import contains_card_number

    class CardSafeHistory(FileHistory):
        def append_string(self, string: str) -> None:
            if not contains_card_number(string):
                super().append_string(string)

    return CardSafeHistory(str(history_file))


class PromptReader:
    """prompt_toolkit's prompt: line editing, and history kept in ``history_file``.

    Ctrl-D ends the input; Ctrl-C raises ``KeyboardInterrupt`` (the console quits on it at its prompt,
    and cancels a form while one is being filled). Card-like lines are never written to the history.
    """

    def __init__(self, history_file: Path) -> None:
        from prompt_toolkit import PromptSession

        history_file.parent.mkdir(parents=True, exist_ok=True)
        self._session: Any = PromptSession(history=card_safe_history(history_file))

    def __call__(self, prompt: str) -> str | None:
        try:
            line: str = self._session.prompt(prompt)
        except EOFError:
            return None
        return line


def interactive(stream: IO[str]) -> bool:
    """True when ``stream`` is a terminal (then the line-editing prompt is used)."""
    try:
        return stream.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
