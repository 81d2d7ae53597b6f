"""A script piped into the console reads as a terminal would show it, even when the app prints
something (a DM, a Home update) while the console waits for the next line."""

from __future__ import annotations

import io
import os
import threading

import pytest

from devtools.console.terminal import PlainReader


def test_a_line_printed_while_the_console_waits_ends_the_prompt_line_and_the_prompt_is_drawn_again() -> None:
    read_end, write_end = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_end) as stdin, os.fdopen(write_end, "w") as typing:
        reader = PlainReader(stdin, out)
        typed: list[str | None] = []
        waiting = threading.Thread(target=lambda: typed.append(reader("ann> ")))
        waiting.start()
        while out.getvalue() != "ann> ":
            threading.Event().wait(0.01)
        reader.write("(the App Home was updated)")
        typing.write("/billing methods\n")
        typing.flush()
        waiting.join(timeout=10)

    assert typed == ["/billing methods"]
    assert out.getvalue() == "ann> \n(the App Home was updated)\nann> /billing methods\n"


def test_a_line_printed_between_prompts_is_printed_as_it_is() -> None:
    out = io.StringIO()
    reader = PlainReader(io.StringIO("help\n"), out)

    reader.write("Welcome")
    assert reader("ann> ") == "help"
    assert reader("ann> ") is None
    assert out.getvalue() == "Welcome\nann> help\nann> \n"


def test_after_ctrl_c_at_a_prompt_a_line_printed_does_not_draw_that_prompt_again() -> None:
    class Interrupted:
        def readline(self) -> str:
            raise KeyboardInterrupt

    out = io.StringIO()
    reader = PlainReader(Interrupted(), out)  # type: ignore[arg-type]  # only readline is used

    with pytest.raises(KeyboardInterrupt):
        reader("Topic: ")
    reader.write("(form cancelled)")

    assert out.getvalue() == "Topic: (form cancelled)\n"
