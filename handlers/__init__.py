"""Slack listeners and pure Block Kit builders. Thin: they call billing_core services and render."""

from __future__ import annotations

import importlib
import logging
import re
from types import ModuleType

from slack_bolt import App

logger = logging.getLogger(__name__)

# Capabilities written alongside this package; picked up when their module exists.
_OPTIONAL = ("handlers.support", "handlers.reminders")


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return None


def register_listeners(app: App) -> None:
    """Register every listener module's ``register(app)``; the catch-all for stale actions last."""
    from handlers import commands, home, methods, navigation, pay, verification
    from handlers.follow_up import acked_then
    from handlers.ids import SUPPORT_OPEN_ACTION

    for module in (commands, home, pay, methods, navigation, verification):
        module.register(app)
    support = None
    for name in _OPTIONAL:
        optional = _optional(name)
        if optional is None:
            logger.info("%s is not installed; skipping its listeners", name)
            continue
        optional.register(app)
        if name == "handlers.support":
            support = optional
    if support is None:
        app.action(SUPPORT_OPEN_ACTION)(acked_then(navigation.ack_action, navigation.support_fallback))
    # Events we do not handle are acknowledged (not 404), so Slack does not retry them.
    app.event(re.compile(".*"))(lambda: None)
    navigation.register_catch_all(app)
