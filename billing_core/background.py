"""The background-work port: what the domain runs off the caller's thread, without starting threads itself.

- ``submit``: run one job soon and do not wait (an escalation's e-mail right after it was stored,
  so a request never waits for SMTP); ``wait`` lets the console (and tests) see those jobs finish.
- ``loop``: a job run again and again, every ``every`` seconds or as soon as it is woken (the
  outbound delivery pass); the composition root's entry points start and stop it.
- ``lanes``: run a batch of jobs in parallel, at most ``bounds[lane]`` at a time per lane (one
  lane per outbound channel), and collect their results in order.
- ``Pool``: jobs started on a bounded set of threads, each result collected later (the reminder
  sweep sends one round while it claims the next); its messenger opens one for the sweep.

The thread adapter is ``billing_core.adapters.threads``; ``tests.support.fakes.InlineBackground`` runs
everything inline, for tests of the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")


class Loop(Protocol):
    """A job repeated in the background until stopped."""

    def start(self) -> None:
        """Start repeating (idempotent)."""
        ...

    def wake(self) -> None:
        """Run the job again now rather than at the next tick."""
        ...

    def stop(self, timeout: float = 5.0) -> None:
        """Stop repeating; wait at most ``timeout`` seconds for a run in progress."""
        ...


class Lanes(Protocol):
    """Parallel runs of jobs, bounded per lane."""

    def run(self, jobs: Sequence[tuple[str, Callable[[], T]]]) -> list[T]:
        """Run each ``(lane, job)``; return the jobs' results in order (a job's exception is raised)."""
        ...

    def close(self) -> None:
        """Drop jobs not yet started; no ``run`` after this."""
        ...


class Pool(Protocol):
    """Jobs run on a bounded set of threads, each started at once and its result collected later."""

    def start(self, job: Callable[[], T]) -> Callable[[], T]:
        """Start ``job``; the call returned waits for it and returns its result (or raises its error)."""
        ...


class Background(Protocol):
    def submit(self, name: str, job: Callable[[], object]) -> None:
        """Run ``job`` soon, off the caller's thread; ``job`` handles its own errors."""
        ...

    def wait(self, timeout: float = 10.0) -> None:
        """Wait (at most ``timeout`` seconds) for the jobs ``submit`` started so far."""
        ...

    def loop(self, name: str, job: Callable[[], object], every: float) -> Loop:
        """``job`` every ``every`` seconds, or when woken, once started; ``job`` handles its own errors."""
        ...

    def lanes(self, name: str, bounds: Mapping[str, int]) -> Lanes:
        """Lanes named by ``bounds``' keys, each running at most that many jobs at once."""
        ...
