"""OUTBOUND_WEBHOOK_URL / OUTBOUND_WEBHOOK_SECRET: read from the environment, never printed or logged."""

from __future__ import annotations

from bot.logging_setup import redact, secret_values
from bot.settings import Settings


def test_the_outbound_secret_is_never_printed_and_is_redacted_from_logs() -> None:
    settings = Settings(
        _env_file=None,
        OUTBOUND_WEBHOOK_URL="https://erp:hunter22@erp.vendor.test/hooks",
        OUTBOUND_WEBHOOK_SECRET="whsec_vendor_very_secret",
    )
    assert "whsec_vendor_very_secret" not in repr(settings) + str(settings)
    secrets = secret_values(settings)
    line = redact("posting with whsec_vendor_very_secret to https://erp:hunter22@erp.vendor.test/hooks", secrets)
    assert "whsec_vendor_very_secret" not in line and "hunter22" not in line
