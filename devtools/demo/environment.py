"""What ``console --demo`` runs beside the app: a fresh SQLite file, localstripe, a mail sink and
a stand-in of Stripe's hosted card page."""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.demo.checkout import CheckoutStandIn, DemoCheckoutGateway
from devtools.demo.localstripe import API_KEY, LocalStripeProcess
from devtools.demo.mail import DemoMailSink

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
    checkout: CheckoutStandIn | None = field(default=None, init=False)
    #: Set when another console held ``root``: this one's own data directory, removed on ``stop``.
    private_root: Path | None = field(default=None, init=False)
    _lock: int | None = field(default=None, init=False)

    @property
    def database_file(self) -> Path:
        return self.root / "demo.db"

    @property
    def history_file(self) -> Path:
        return self.root / "history"

    def _claim_root(self) -> None:
        """Lock ``root`` for this console; when another console holds it, use a private directory.

        Each console starts from fresh demo data, so two sharing one file would reset each other's.
        The lock is an ``flock``: the system drops it when the process ends, however it ends.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / "console.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            self.private_root = Path(tempfile.mkdtemp(prefix="billing-bot-demo-"))
            self.root = self.private_root
            return
        self._lock = fd

    def start(self) -> dict[str, Any]:
        """Start what is needed; returns the settings (by field name) that point the app at it."""
        self._claim_root()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.database_file}{suffix}").unlink(missing_ok=True)
        if self.stripe_api_base is None:
            self.localstripe = LocalStripeProcess().start()
            self.stripe_api_base = self.localstripe.base_url
        webhook_secret = f"whsec_demo_{secrets.token_hex(16)}"
        self.checkout = CheckoutStandIn(
            stripe_api_base=self.stripe_api_base, api_key=API_KEY, webhook_secret=webhook_secret
        ).start()
        if self.smtp_url is None and DemoMailSink.available():
            self.mail = DemoMailSink(self.announce).start()
            self.smtp_url = self.mail.url
        return {
            "database_url": f"sqlite:///{self.database_file}",
            "stripe_api_key": API_KEY,
            "stripe_api_base": self.stripe_api_base,
            "smtp_url": self.smtp_url,
            "stripe_webhook_secret": webhook_secret,
        }

    def stripe_gateway(self) -> DemoCheckoutGateway:
        """The app's Stripe gateway: localstripe, with the stand-in's pages for adding a card."""
        assert self.checkout is not None and self.stripe_api_base is not None, "start() first"
        return DemoCheckoutGateway(API_KEY, api_base=self.stripe_api_base, checkout=self.checkout)

    def describe(self) -> str:
        mail = "e-mails shown here" if self.mail else ("SMTP at " + self.smtp_url if self.smtp_url else "no e-mail")
        if self.private_root is not None:
            mail += "; another console is using .demo/, so this one has its own demo data (removed when it quits)"
        return f"SQLite {self.database_file}, Stripe API at {self.stripe_api_base} (localstripe), {mail}"

    def stop(self) -> None:
        """Stop everything started here (safe to call more than once)."""
        checkout, self.checkout = self.checkout, None
        if checkout is not None:
            checkout.stop()
        mail, self.mail = self.mail, None
        if mail is not None:
            mail.stop()
        localstripe, self.localstripe = self.localstripe, None
        if localstripe is not None:
            localstripe.stop()
        lock, self._lock = self._lock, None
        if lock is not None:
            os.close(lock)
        private, self.private_root = self.private_root, None
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
