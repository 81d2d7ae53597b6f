"""Reading lines: a line-editing prompt with history on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any


class PlainReader:
    """Lines from a stream (a script, a pipe); each is echoed after its prompt for a readable transcript."""

    def __init__(self, stream: IO[str], out: IO[str]) -> None:
        self._stream = stream
        self._out = out

    def __call__(self, prompt: str) -> str | None:
        self._out.write(prompt)
        self._out.flush()
        line = self._stream.readline()
        if not line:
            self._out.write("\n")
            return None
        self._out.write(line if line.endswith("\n") else line + "\n")
        self._out.flush()
        return line.rstrip("\n")


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
