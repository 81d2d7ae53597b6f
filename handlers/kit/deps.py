"""What listeners need besides the request: services, identity cache, support address.

Put in the Bolt context by a middleware (``context["deps"]`` and ``context["services"]``);
never a module global. Anything deep-copying a context gets these back as themselves.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from billing_core.container import Services
from billing_core.marks import OnceMarks
from billing_core.views import AccountView, Actor, CallerContext
from handlers.kit.blocks import Screen
from handlers.kit.identity import IdentityResolver
from handlers.runtime.ack_reads import BoundedReads
from handlers.runtime.follow_up import Later

if TYPE_CHECKING:
    from handlers.chat.seam import Understander
    from handlers.kit.interaction import Interaction


class ShownOutcomes:
    """Modals already showing a payment outcome, so a double click's "in progress" never hides it.

    A display nicety, not a guard (the database guards the charge). With ``marks`` the marks are
    in the database, so a double click that reaches another process is recognised too; without,
    they are process-local and bounded.
    """

    KIND = "shown-outcome"

    def __init__(self, marks: OnceMarks | None = None, *, limit: int = 10_000) -> None:
        self._marks = marks
        self._limit = limit
        self._views: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def mark(self, view_id: str | None) -> None:
        if not view_id:
            return
        if self._marks is not None:
            self._marks.claim(self.KIND, view_id)
            return
        with self._lock:
            self._views[view_id] = None
            while len(self._views) > self._limit:
                self._views.popitem(last=False)

    def shown(self, view_id: str | None) -> bool:
        if not view_id:
            return False
        if self._marks is not None:
            return self._marks.seen(self.KIND, view_id)
        with self._lock:
            return view_id in self._views


@dataclass(frozen=True)
class Deps:
    services: Services
    identity: IdentityResolver
    support_email: str
    # Screens the kit shows but the subdomains draw (handed in by ``handlers.registry.listener_deps``).
    overview_screen: Callable[[Interaction, CallerContext], Screen]
    verification_prompt: Callable[[Services, Actor], Screen]
    # The account's current invoices (after a refused or stale click) and the caller's Home tab
    # republished after a change: drawn by layers above the subdomains, so handed in too.
    invoices_screen: Callable[[Interaction, CallerContext, AccountView], Screen]
    publish_home: Callable[[Interaction], None]
    # The client of the workspace a principal belongs to (a DM to someone of another workspace).
    client_for_principal: Callable[[str], WebClient | None] = lambda _principal: None
    # The workspace (team id) holding the billing support channel, when several are installed.
    support_team: str | None = None
    outcomes: ShownOutcomes = field(default_factory=ShownOutcomes)
    ack_reads: BoundedReads = field(default_factory=BoundedReads)
    later: Later = field(default_factory=Later)
    # What reads typed messages (``handlers.chat.seam``); None: chat's rule-based understander.
    understander: Understander | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        return self


def deps_of(context: BoltContext) -> Deps:
    deps = context.get("deps")
    if not isinstance(deps, Deps):
        raise RuntimeError("the deps middleware did not run")
    return deps
