"""``billing-bot identities revoke``: unlink Slack users from the e-mail addresses they proved."""

from __future__ import annotations

from bot.compose import build_identity_verification
from bot.settings import Settings


def revoke_identities(settings: Settings, who: str) -> list[str]:
    """Revoke every link matching ``who`` (an e-mail, a principal or a Slack user id); one line each."""
    from billing_core.clock import SystemClock
    from billing_core.db.database import Database

    db = Database(settings.database_url)
    try:
        verifier = build_identity_verification(settings, db=db, clock=SystemClock())
        revoked = verifier.revoke(who, by="billing-bot identities revoke")
    finally:
        db.dispose()
    lines = [
        f"revoked {link.principal} -> {link.email}"
        + (f" (verified {link.verified_at:%Y-%m-%d %H:%M} UTC)" if link.verified_at else "")
        for link in revoked
    ]
    return lines or [f"nothing to revoke: no verified link matches {who!r}"]
