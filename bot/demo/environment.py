"""What ``console --demo`` runs beside the app: a fresh SQLite file, localstripe and a mail sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.demo.localstripe import API_KEY, LocalStripeProcess
from bot.demo.mail import DemoMailSink

DEMO_DIR = Path(".demo")


@dataclass
class DemoEnvironment:
    """Starts the demo's database file, Stripe and mail; ``stop`` ends all of it.

    ``stripe_api_base`` / ``smtp_url`` use servers that are already running instead of starting
    them (tests pass their own localstripe and SMTP sink to look at them afterwards).
    """

    root: Path = DEMO_DIR
    announce: Callable[[str], None] = print
    stripe_api_base: str | None = None
    smtp_url: str | None = None
    localstripe: LocalStripeProcess | None = field(default=None, init=False)
    mail: DemoMailSink | None = field(default=None, init=False)

    @property
    def database_file(self) -> Path:
        return self.root / "demo.db"

    @property
    def history_file(self) -> Path:
        return self.root / "history"

    def start(self) -> dict[str, Any]:
        """Start what is needed; returns the settings (by field name) that point the app at it."""
        self.root.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.database_file}{suffix}").unlink(missing_ok=True)
        if self.stripe_api_base is None:
            self.localstripe = LocalStripeProcess().start()
            self.stripe_api_base = self.localstripe.base_url
        if self.smtp_url is None and DemoMailSink.available():
            self.mail = DemoMailSink(self.announce).start()
            self.smtp_url = self.mail.url
        return {
            "database_url": f"sqlite:///{self.database_file}",
            "stripe_api_key": API_KEY,
            "stripe_api_base": self.stripe_api_base,
            "smtp_url": self.smtp_url,
        }

    def describe(self) -> str:
        mail = "e-mails shown here" if self.mail else ("SMTP at " + self.smtp_url if self.smtp_url else "no e-mail")
        return f"SQLite {self.database_file}, Stripe API at {self.stripe_api_base} (localstripe), {mail}"

    def stop(self) -> None:
        """Stop everything started here (safe to call more than once)."""
        mail, self.mail = self.mail, None
        if mail is not None:
            mail.stop()
        localstripe, self.localstripe = self.localstripe, None
        if localstripe is not None:
            localstripe.stop()
