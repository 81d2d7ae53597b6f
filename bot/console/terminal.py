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


class PromptReader:
    """prompt_toolkit's prompt: line editing, and history kept in ``history_file``.

    Ctrl-D ends the input; Ctrl-C raises ``KeyboardInterrupt`` (the console quits on it).
    """

    def __init__(self, history_file: Path) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history_file.parent.mkdir(parents=True, exist_ok=True)
        self._session: Any = PromptSession(history=FileHistory(str(history_file)))

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
