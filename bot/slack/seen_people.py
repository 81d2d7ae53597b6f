"""Where people use the bot, written in batches off the request path.

Reminders go to the workspace where a contact last used the bot (``PrincipalDirectory``). Writing
that down on the request itself would cost a statement on a person's first command; instead the
identity resolver hands each person it looks up to this buffer, and a background thread writes
everyone seen in one statement every ``FLUSH_SECONDS`` (and at shutdown). A crash loses at most
that much of "last seen", which only orders workspaces.
"""

from __future__ import annotations

import logging
import threading

from billing_core.identity.directory import PrincipalDirectory
from billing_core.views import Actor

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 30.0
MAX_PENDING = 10_000


class SeenPeople:
    """Collects (principal, e-mail) pairs and writes them to the directory in batches."""

    def __init__(self, directory: PrincipalDirectory, *, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._directory = directory
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # held while a batch is written; ``forget`` waits for it
        self._pending: dict[str, str] = {}
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def saw(self, actor: Actor) -> None:
        """Remember that ``actor`` used the bot now (written at the next flush)."""
        with self._lock:
            if len(self._pending) < MAX_PENDING:
                self._pending[actor.principal] = actor.email
            start = self._thread is None
            if start:
                self._thread = threading.Thread(target=self._run, name="seen-people", daemon=True)
        if start:
            assert self._thread is not None
            self._thread.start()

    def flush(self) -> None:
        """Write everyone seen since the last flush."""
        with self._writing:
            with self._lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return
            try:
                self._directory.record_seen_many(pending)
            except Exception:
                logger.exception("could not record where %d people use the bot", len(pending))

    def forget(self, principal_prefix: str) -> None:
        """Drop the people of a workspace that is going (uninstalled, removed from an org): called
        before its links are deleted, it waits for a batch being written, so no batch brings back a
        link of that workspace afterwards."""
        with self._writing, self._lock:
            self._pending = {p: e for p, e in self._pending.items() if not p.startswith(principal_prefix)}

    def stop(self) -> None:
        self._stopped.set()
        self.flush()

    def _run(self) -> None:
        while not self._stopped.wait(self._flush_seconds):
            self.flush()
