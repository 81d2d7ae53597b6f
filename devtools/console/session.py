"""``billing-bot console [--demo]``: the Bolt app, a pretend Slack around it, and the terminal.

Everything runs in this process except localstripe, which is a child process. ``run_console``
stops all of it on ``:quit``, end of input, Ctrl-C, SIGTERM or SIGHUP.
"""

from __future__ import annotations

import logging
import secrets
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from types import FrameType
from typing import IO, Any

from billing_core.clock import Clock
from billing_core.container import Services
from billing_core.payments.ports import PaymentGateway
from bot.settings import Settings
from devtools.console.display import Display
from devtools.console.driver import SlackDriver
from devtools.console.idle import TrackingExecutor
from devtools.console.repl import Console, LineReader, StopConsole
from devtools.console.terminal import PlainReader, PromptReader, interactive
from devtools.console.webapi import SlackWebAPI
from devtools.console.workspace import Workspace
from devtools.demo.checkout import CheckoutStandIn, pick_in_terminal
from devtools.demo.environment import DemoEnvironment
from devtools.demo.seed import CARDS_NOTE, PEOPLE, DemoPerson

logger = logging.getLogger(__name__)

BOT_TOKEN = "xoxb-console-local"  # only ever sent to the in-process stand-in


def with_overrides(settings: Settings, **fields: Any) -> Settings:
    """``settings`` with some fields (by field name) replaced, validated again."""
    data = settings.model_dump()
    data.update(fields)
    by_alias = {Settings.model_fields[name].alias or name: value for name, value in data.items()}
    return Settings(_env_file=None, **by_alias)


def console_settings(settings: Settings, api: SlackWebAPI, signing_secret: str) -> Settings:
    """Slack pointed at the stand-in, as one workspace with a bot token (never OAuth or Socket Mode)."""
    return with_overrides(
        settings,
        slack_api_url=api.base_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=signing_secret,
        slack_app_token=None,
        slack_client_id=None,
        slack_client_secret=None,
    )


@dataclass
class ConsoleParts:
    """A running console: the pretend workspace, the app and the services behind it."""

    console: Console
    services: Services
    settings: Settings
    api: SlackWebAPI


def _deliver_escalations(services: Services) -> None:
    """What the scheduler's outbox job does in ``serve``: the console runs it after each line, so
    an escalation's e-mail leaves at once."""
    outbox = services.escalations.outbox
    outbox.wait_for_deliveries()  # those the app started itself (support requests, "I've already paid")
    outbox.deliver_due()


def reminder_hook(services: Services, settings: Settings) -> Callable[[str], str]:
    """``:remind <date>``: a sweep at 10:00 that day (or at the ISO time given), in BILLING_TIMEZONE."""

    def remind(argument: str) -> str:
        try:
            moment = datetime.fromisoformat(argument)
        except ValueError:
            return f"Not a date: {argument!r}. Use YYYY-MM-DD or an ISO time."
        if len(argument) <= 10:
            moment = datetime.combine(moment.date(), time(10, 0))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=settings.timezone)
        result = services.reminders.run_sweep(moment)
        waiting = f", {result.postponed} waiting for working hours" if getattr(result, "postponed", 0) else ""
        return f"Reminder sweep at {moment:%a %d %b %Y %H:%M %Z}: {result.summary()}{waiting}"

    return remind


@contextmanager
def console_parts(
    settings: Settings,
    *,
    write: Callable[[str], None],
    read: LineReader,
    people: Sequence[DemoPerson] = (),
    clock: Clock | None = None,
    seed: Callable[[Services], None] | None = None,
    stripe_gateway: PaymentGateway | None = None,
) -> Iterator[ConsoleParts]:
    """Build the stand-in, the services and the Bolt app; tear them down on exit."""
    from bot.compose import SlackRuntime, build_runtime
    from bot.server import start_outbound

    workspace = Workspace(Display(write, lambda user_id: workspace.describe(user_id)))
    api = SlackWebAPI(workspace).start()
    driver: SlackDriver | None = None
    runtime: SlackRuntime | None = None
    try:
        signing_secret = secrets.token_hex(16)
        settings = console_settings(settings, api, signing_secret)
        # The same composition as ``serve``: notifier, services and Bolt app.
        # The app's listeners and DMs (a card added, a payment settled) run on the executor the console waits for.
        executor = TrackingExecutor()
        runtime = build_runtime(
            settings,
            clock=clock,
            stripe_gateway=stripe_gateway,
            notifier_executor=executor,
            listener_executor=executor,
        )
        services = runtime.services
        if seed is not None:
            seed(services)
        start_outbound(services)  # receipts (and events) go out as in serve, once the database is ready
        for person in people:
            workspace.add_person(person.email, person.name)
        driver = SlackDriver(runtime.app, signing_secret=signing_secret, workspace=workspace, executor=executor)
        console = Console(
            driver,
            workspace,
            read,
            remind=reminder_hook(services, settings),
            after_turn=lambda: _deliver_escalations(services),
        )
        yield ConsoleParts(console, services, settings, api)
    finally:
        if driver is not None:
            driver.close()
        if runtime is not None:
            runtime.notifier.shutdown()
            if runtime.services.outbound is not None:
                runtime.services.outbound.stop()
            runtime.services.db.dispose()
        api.stop()


def run_console(
    settings: Settings,
    *,
    demo: DemoEnvironment | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    clock: Clock | None = None,
) -> None:
    """Run the console until the person quits; everything started is stopped before returning."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    tty = stdin is sys.stdin and interactive(stdin)

    plain = None if tty else PlainReader(stdin, stdout)

    def write(text: str) -> None:
        if plain is not None:
            plain.write(text)
        else:
            print(text, file=stdout, flush=True)

    with ExitStack() as stack:
        stack.enter_context(_stop_on_signals())
        people: Sequence[DemoPerson] = ()
        seed: Callable[[Services], None] | None = None
        gateway: PaymentGateway | None = None
        history = Path(".demo") / "history"
        if demo is not None:
            demo.announce = write
            stack.callback(demo.stop)
            settings = with_overrides(settings, **demo.start())
            people, seed, history = PEOPLE, _demo_seed(settings), demo.history_file
            gateway = demo.stripe_gateway()
        read: LineReader = plain if plain is not None else PromptReader(history)
        parts = stack.enter_context(
            console_parts(
                settings, write=write, read=read, people=people, clock=clock, seed=seed, stripe_gateway=gateway
            )
        )
        if demo is not None and demo.checkout is not None:
            _attach_checkout(parts, demo.checkout)
        _banner(write, demo, people)
        if people:
            parts.console.act_as(people[0].email)
        else:
            write("Act as a billing contact with :as <email>.")
        stack.enter_context(_patched_stdout() if tty else nullcontext())
        try:
            parts.console.run()
        except KeyboardInterrupt:
            write("")
        write("Bye: everything the console started has been stopped.")


def _attach_checkout(parts: ConsoleParts, checkout: CheckoutStandIn) -> None:
    """The demo's Checkout tells the app of saved cards as Stripe's webhook would, and its pages
    can be completed from the terminal when the person clicks "Add a card securely"."""
    if parts.services.payments is not None:
        checkout.deliver = parts.services.payments.webhooks.handle
    console = parts.console

    def browse(url: str) -> bool:
        return pick_in_terminal(checkout, url, read=console.read, say=console.display.say)

    console.browser = browse


def _demo_seed(settings: Settings) -> Callable[[Services], None]:
    from bot.compose import build_stripe_gateway
    from devtools.demo.seed import seed

    def run(services: Services) -> None:
        services.db.upgrade()
        api_key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else ""
        seed(services.importer, build_stripe_gateway(settings), api_key, services.accounts.today())

    return run


def _banner(write: Callable[[str], None], demo: DemoEnvironment | None, people: Sequence[DemoPerson]) -> None:
    write("billing-bot console: a pretend Slack workspace driving the real app.")
    if demo is not None:
        write(f"Demo data: {demo.describe()}.")
    if people:
        write(f"Demo people (you start as {people[0].name}; be someone else with :as <email>):")
    for person in people:
        write(f"  {person.email:<18} {person.name}: {person.note}")
    if demo is not None:
        write(CARDS_NOTE)
    write("Type /billing help to start, a number to click, :help for console commands, :quit to leave.")


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end the console like Ctrl-C does, so that cleanup runs."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise StopConsole

    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _patched_stdout() -> Any:
    from prompt_toolkit.patch_stdout import patch_stdout

    return patch_stdout(raw=True)
