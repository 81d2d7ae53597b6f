from __future__ import annotations

import pytest

from billing_core.errors import ConfigurationError
from bot.settings import Settings
from tests.support.settings import settings_from


def make(**env: str) -> Settings:
    return settings_from(**env)


def test_defaults_follow_the_contract() -> None:
    settings = make()
    assert settings.database_url == "sqlite:///billing.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.stripe_api_base == "https://api.stripe.com"
    assert settings.support_email == "billing@example.com"
    assert settings.smtp_from == "billing-bot@localhost"
    assert settings.billing_timezone == "UTC"
    assert settings.reminder_schedule == [-7, 0, 3, 7, 14]


def test_a_missing_variable_for_the_chosen_mode_is_named() -> None:
    with pytest.raises(ConfigurationError, match="SLACK_SIGNING_SECRET"):
        make(SLACK_BOT_TOKEN="xoxb-1").require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")


def test_secrets_never_show_in_printed_settings() -> None:
    settings = make(SLACK_BOT_TOKEN="xoxb-very-secret", STRIPE_API_KEY="sk_test_secret", SMTP_URL="smtps://u:pw@h:465")
    printed = repr(settings) + str(settings)
    for secret in ("xoxb-very-secret", "sk_test_secret", "pw@h"):
        assert secret not in printed


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        make(BILLING_TIMEZONE="Mars/Olympus")


def test_the_reminder_schedule_reads_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDER_SCHEDULE", "-3, 0, 5")
    assert Settings(_env_file=None).reminder_schedule == [-3, 0, 5]


def test_oauth_with_a_support_channel_but_no_support_workspace_is_refused_naming_it() -> None:
    import pytest

    from billing_core.errors import ConfigurationError
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="s",
        SUPPORT_SLACK_CHANNEL="C1",
        IDENTITY_VERIFICATION="email_code",
    )
    with pytest.raises(ConfigurationError, match="SUPPORT_SLACK_TEAM"):
        settings.check_support_workspace()


def test_invoices_come_from_imports_by_default_and_the_push_api_is_off_without_a_token() -> None:
    settings = make()
    assert settings.invoice_source == "import" and settings.api_tokens() == ()
    assert make(BILLING_API_TOKEN=" new-token , old-token ,").api_tokens() == ("new-token", "old-token")


def test_stripe_as_the_invoice_source_names_the_missing_stripe_variable() -> None:
    with pytest.raises(ConfigurationError, match="STRIPE_API_KEY"):
        make(INVOICE_SOURCE="stripe").check_invoice_source()
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET"):
        make(INVOICE_SOURCE="stripe", STRIPE_API_KEY="sk_test_x").check_invoice_source()
    make(INVOICE_SOURCE="stripe", STRIPE_API_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x").check_invoice_source()


def test_an_unknown_invoice_source_is_refused() -> None:
    with pytest.raises(ValueError, match="INVOICE_SOURCE"):
        make(INVOICE_SOURCE="quickbooks")
