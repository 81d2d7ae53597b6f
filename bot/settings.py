"""Settings from the environment and ``.env``, with exactly the contract's variable names."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from billing_core.errors import ConfigurationError


def _parse_steps(value: object) -> object:
    if isinstance(value, str):
        return [int(part) for part in value.replace(" ", "").split(",") if part]
    return value


class Settings(BaseSettings):
    """Every knob the bot reads. Secrets are ``SecretStr`` and never printed."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite:///billing.db", alias="DATABASE_URL")

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")

    stripe_api_key: SecretStr | None = Field(None, alias="STRIPE_API_KEY")
    stripe_webhook_secret: SecretStr | None = Field(None, alias="STRIPE_WEBHOOK_SECRET")
    stripe_api_base: str = Field("https://api.stripe.com", alias="STRIPE_API_BASE")
    stripe_publishable_key: str | None = Field(None, alias="STRIPE_PUBLISHABLE_KEY")

    support_email: str = Field("billing@example.com", alias="SUPPORT_EMAIL")
    smtp_url: SecretStr | None = Field(None, alias="SMTP_URL")
    smtp_from: str = Field("billing-bot@localhost", alias="SMTP_FROM")
    smtp_ca_file: str | None = Field(None, alias="SMTP_CA_FILE")
    support_slack_channel: str | None = Field(None, alias="SUPPORT_SLACK_CHANNEL")
    # The workspace (team id, or "E…:T…" in a Grid organization) holding SUPPORT_SLACK_CHANNEL.
    support_slack_team: str | None = Field(None, alias="SUPPORT_SLACK_TEAM")

    billing_timezone: str = Field("UTC", alias="BILLING_TIMEZONE")
    reminder_schedule: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [-7, 0, 3, 7, 14], alias="REMINDER_SCHEDULE"
    )
    public_url: str = Field("http://127.0.0.1:3000", alias="PUBLIC_URL")
    log_format: str = Field("text", alias="LOG_FORMAT")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # Empty means the default for the install type (see ``identity_verification_mode``).
    identity_verification: Literal["", "slack_email", "email_code"] = Field("", alias="IDENTITY_VERIFICATION")

    @field_validator("reminder_schedule", mode="before")
    @classmethod
    def _steps(cls, value: object) -> object:
        return _parse_steps(value)

    @field_validator("billing_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.billing_timezone)

    @property
    def slack_configured(self) -> bool:
        """True when any Slack credential is set: then ``make run`` serves Slack."""
        return any(
            value is not None
            for value in (self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.slack_client_id)
        )

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def identity_verification_mode(self) -> str:
        """``email_code`` (OAuth installs by default: other workspaces' e-mails are not ours to
        trust) or ``slack_email`` (single workspace by default)."""
        if self.identity_verification:
            return self.identity_verification
        return "email_code" if self.oauth_enabled else "slack_email"

    def require(self, *names: str) -> None:
        """Raise ``ConfigurationError`` naming the first missing environment variable."""
        for name in names:
            field_name = name.lower()
            if getattr(self, field_name, None) in (None, ""):
                raise ConfigurationError(f"{name} is required for this mode but is not set")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    try:
        return Settings()
    except Exception as error:  # pydantic's message names the variable; keep it to one line
        first = str(error).splitlines()
        raise ConfigurationError(" ".join(line.strip() for line in first[:3])) from error
