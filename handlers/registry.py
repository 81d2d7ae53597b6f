"""Every listener module's ``register(app)``, in order; the catch-alls for stale actions last."""

from __future__ import annotations

import re

from slack_bolt import App

from handlers import commands, navigation
from handlers.accounts import home
from handlers.escalations import support
from handlers.identity import verification
from handlers.payments import methods, pay
from handlers.reminders import buttons as reminder_buttons


def register_listeners(app: App) -> None:
    """Register every listener on ``app``."""
    for module in (commands, home, pay, methods, navigation, verification, support, reminder_buttons):
        module.register(app)
    # Events we do not handle are acknowledged (not 404), so Slack does not retry them.
    app.event(re.compile(".*"))(lambda: None)
    navigation.register_catch_all(app)
