"""What listeners need besides the request: services, identity cache, support address.

Put in the Bolt context by a middleware (``context["deps"]`` and ``context["services"]``);
never a module global. Anything deep-copying a context gets these back as themselves.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import BoltContext

from billing_core.container import Services
from handlers.identity.resolver import IdentityResolver
from handlers.runtime.ack_reads import BoundedReads
from handlers.runtime.follow_up import Later


class ShownOutcomes:
    """Modals already showing a payment outcome, so a double click's "in progress" never hides it.

    Process-local and bounded: a display nicety, not a guard (the database guards the charge).
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._views: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def mark(self, view_id: str | None) -> None:
        if not view_id:
            return
        with self._lock:
            self._views[view_id] = None
            while len(self._views) > self._limit:
                self._views.popitem(last=False)

    def shown(self, view_id: str | None) -> bool:
        with self._lock:
            return bool(view_id) and view_id in self._views


@dataclass(frozen=True)
class Deps:
    services: Services
    identity: IdentityResolver
    support_email: str
    outcomes: ShownOutcomes = field(default_factory=ShownOutcomes)
    ack_reads: BoundedReads = field(default_factory=BoundedReads)
    later: Later = field(default_factory=Later)

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        return self


def deps_of(context: BoltContext) -> Deps:
    deps = context.get("deps")
    if not isinstance(deps, Deps):
        raise RuntimeError("the deps middleware did not run")
    return deps
