"""The console's read-eval loop: slash commands, numbers to click, and ``:`` console commands."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from devtools.console.display import Choice, Display, Surface
from devtools.console.driver import SlackDriver
from devtools.console.inputs import answer, question
from devtools.console.render import input_blocks, text_of
from devtools.console.workspace import Workspace

logger = logging.getLogger(__name__)

HELP = """Console commands:
  /billing <text>   what a person types in Slack (try /billing help, /billing pay)
  <anything else>   a message to the app in its DM (try: what do I owe?, show my invoices,
                    pay INV-1001, pay everything, my cards, receipts, switch to Globex, help)
  <number>          click the button or choose the option with that number
  :as <email>       act as another person (a billing contact, or anyone)
  :home             open the App Home
  :remind <date>    run a reminder sweep as if it were that date (YYYY-MM-DD, or an ISO time) and show the DMs
  :help             this list
  :quit             quit (Ctrl-D and Ctrl-C at the prompt too; Ctrl-C in a form cancels the form)"""


class StopConsole(KeyboardInterrupt):
    """SIGTERM or SIGHUP: the whole console stops, even in the middle of a form (unlike Ctrl-C)."""


class LineReader(Protocol):
    def __call__(self, prompt: str) -> str | None:
        """One line typed after ``prompt``; ``None`` at end of input."""
        ...


#: Runs a reminder sweep at the date or time typed and returns the line to print.
RemindHook = Callable[[str], str]

#: Plays the person's browser for a link button's URL; True when it knew the page (the demo's Checkout).
BrowserHook = Callable[[str], bool]


@dataclass
class Console:
    """One person at the terminal, playing any member of the workspace."""

    driver: SlackDriver
    workspace: Workspace
    read: LineReader
    remind: RemindHook | None = None
    browser: BrowserHook | None = None
    #: Runs after each line is handled (the console has no scheduler: the escalation outbox runs here).
    after_turn: Callable[[], None] | None = None
    #: The App Home a click started from: drawn again (with working numbers) once no modal covers it.
    _home: Surface | None = field(default=None, init=False, repr=False)

    @property
    def display(self) -> Display:
        return self.workspace.display

    def act_as(self, email: str) -> None:
        """Switch the person at the keyboard (adding them to the workspace when new)."""
        person = self.workspace.add_person(email)
        self.display.viewer = person.id
        self.display.say(f"You are now {person.name} <{person.email}> (Slack user {person.id}).")

    def prompt(self) -> str:
        person = self.workspace.person(self.display.viewer)
        return f"{person.email if person else 'nobody'}> "

    def run(self) -> None:
        """Read and handle lines until ``:quit`` or the end of input."""
        while True:
            line = self.read(self.prompt())
            if line is None:
                return
            self.display.new_turn()
            try:
                if not self.handle(line.strip()):
                    return
            except Exception:
                logger.exception("console command failed")
                self.display.say("(that failed; see the log above)")
            self._after_turn()

    def _after_turn(self) -> None:
        if self.after_turn is None:
            return
        try:
            self.after_turn()
        except Exception:
            logger.exception("the console's after-turn work failed")

    def handle(self, line: str) -> bool:
        """Do what ``line`` says; False means quit."""
        if not line:
            return True
        if line.startswith(":"):
            return self._console_command(line)
        if line.isascii() and line.isdecimal():
            self._choose(int(line))
            self._back_to_home()
            return True
        if not self.display.viewer:
            self.display.say("Pick who you are first: :as <email>")
            return True
        if line.startswith("/"):
            command, _, text = line.partition(" ")
            self.driver.command(self.display.viewer, text.strip(), command=command)
            return True
        self.driver.message(self.display.viewer, line)  # typed in the app's DM (chat)
        return True

    def _console_command(self, line: str) -> bool:
        name, _, argument = line[1:].partition(" ")
        argument = argument.strip()
        if name in ("quit", "q", "exit"):
            return False
        if name == "help":
            self.display.say(HELP)
        elif name == "as":
            if "@" not in argument:
                self.display.say("Usage: :as <email>")
            else:
                self.act_as(argument)
        elif name == "home":
            if self.display.viewer:
                self.driver.open_home(self.display.viewer)
        elif name == "remind":
            if self.remind is None:
                self.display.say("Reminders are not available in this console.")
            elif not argument:
                self.display.say("Usage: :remind <date>, e.g. :remind 2026-12-01")
            else:
                self.display.say(self.remind(argument))
        else:
            self.display.say(f"Unknown console command :{name}. {HELP}")
        return True

    def _choose(self, number: int) -> None:
        choice = self.display.choice(number)
        if choice is None or choice.surface.closed:
            self.display.say(f"Nothing on screen has the number {number}.")
            return
        surface = choice.surface
        if surface.kind == "home":
            self._home = surface
        if surface.user_id != self.display.viewer:
            self.display.say(f"(clicking as {self.workspace.describe(surface.user_id)}, who sees this)")
        if choice.kind == "close":
            self.driver.dismiss(surface)
            self.display.say("(closed)")
        elif choice.kind == "submit":
            self._submit(surface)
        else:
            self._click(choice)

    def _back_to_home(self) -> None:
        """After a click from the App Home, once no modal covers it, draw it again: the modal's
        numbers replaced the Home's, and the app may have changed it."""
        home = self._home
        if home is None or self.workspace.top_modal(home.user_id) is not None:
            return
        self._home = None
        self.display.new_turn()
        self.display.show(home, "back on the App Home")

    def _click(self, choice: Choice) -> None:
        assert choice.clickable is not None
        element = choice.clickable.element
        url = element.get("url")
        if url:
            self.display.say(f"(Slack opens {url} in the browser)")
        confirm = element.get("confirm")
        if isinstance(confirm, dict):
            yes = text_of(confirm.get("confirm")) or "Yes"
            typed = self.read(f"{text_of(confirm.get('title'))}: {text_of(confirm.get('text'))} {yes}? [y/N] ")
            if (typed or "").strip().lower() not in ("y", "yes"):
                self.display.say("(cancelled)")
                return
        self.driver.click(choice)
        if url and self.browser is not None and self.browser(str(url)):
            self.driver.wait()  # what the page set off (the app's DM about a new card) shows before the prompt

    def _submit(self, surface: Surface) -> None:
        """Fill and submit the modal; Ctrl-C while filling it cancels the form (not the console)."""
        try:
            self._fill_and_submit(surface)
        except KeyboardInterrupt as interrupt:
            if isinstance(interrupt, StopConsole):
                raise
            self.display.say("")
            self.display.say("(form cancelled: nothing was submitted; its number still opens it again)")

    def _fill_and_submit(self, surface: Surface) -> None:
        """Prompt for each input of the modal, then submit it; ask again for what the app rejects."""
        blocks = input_blocks(surface.content)
        wanted = {str(b.get("block_id") or "") for b in blocks}
        while True:
            for block in blocks:
                if str(block.get("block_id") or "") in wanted and not self._ask(surface, block):
                    return
            errors = self.driver.submit(surface)
            if not errors:
                return
            for block_id, message in errors.items():
                self.display.say(f"  ✘ {block_id}: {message}")
            wanted = set(errors) & {str(b.get("block_id") or "") for b in blocks}
            if not wanted:
                return

    def _ask(self, surface: Surface, block: dict[str, object]) -> bool:
        element = block.get("element")
        if not isinstance(element, dict) or not element.get("action_id"):
            return True
        prompt, options = question(block)
        for line in options:
            self.display.say(f"    {line}")
        while True:
            typed = self.read(prompt)
            if typed is None:
                return False
            value = answer(element, typed)
            if isinstance(value, dict):
                surface.state.setdefault(str(block.get("block_id") or ""), {})[str(element["action_id"])] = value
                return True
            self.display.say(f"  {value}")
