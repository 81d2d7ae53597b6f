"""Settings from the environment and ``.env``, with exactly the contract's variable names."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from billing_core.errors import ConfigurationError
from billing_core.identity.principal import ClaimTrust


def _parse_steps(value: object) -> object:
    if isinstance(value, str):
        return [int(part) for part in value.replace(" ", "").split(",") if part]
    return value


def _parse_ids(value: object) -> object:
    """``"T1, E2"`` -> ``["T1", "E2"]`` (Slack team or Enterprise Grid ids, comma-separated)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
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
    # Fernet key(s), comma-separated (the first encrypts): OAuth tokens encrypted in the database.
    slack_token_encryption_key: SecretStr | None = Field(None, alias="SLACK_TOKEN_ENCRYPTION_KEY")
    # When set, /metrics and the details of /healthz answer only "Authorization: Bearer <token>".
    metrics_token: SecretStr | None = Field(None, alias="METRICS_TOKEN")

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
    # Who answered, as the requester sees staff replies in their support thread: "person" shows the
    # staff member's Slack name, any other text is shown as it is ("Billing team").
    support_staff_name: str = Field("Billing team", min_length=1, max_length=80, alias="SUPPORT_STAFF_NAME")
    # Where payments and escalations are reported to the vendor's systems, signed with the secret.
    outbound_webhook_url: str | None = Field(None, alias="OUTBOUND_WEBHOOK_URL")
    outbound_webhook_secret: SecretStr | None = Field(None, alias="OUTBOUND_WEBHOOK_SECRET")
    # How long a process holds an outbound event it is sending before another may take it over (a
    # sender that died); one webhook attempt is cut at two thirds of it (30 s: 20 s).
    outbound_lease_seconds: float = Field(30.0, gt=0, alias="OUTBOUND_LEASE_SECONDS")
    # How often the process running the scheduled jobs renews the scheduler lease (and another process
    # tries to take it over); the lease lapses 90 s after the last renewal, so keep this well below that.
    scheduler_heartbeat_seconds: float = Field(30.0, gt=0, lt=90, alias="SCHEDULER_HEARTBEAT_SECONDS")

    # Bearer token(s), comma-separated, for the push API (/api/v1); the API is off without it.
    billing_api_token: SecretStr | None = Field(None, alias="BILLING_API_TOKEN")
    # Where invoices come from: "import" (file and push API) or "stripe" (Stripe Billing).
    invoice_source: Literal["import", "stripe"] = Field("import", alias="INVOICE_SOURCE")

    billing_timezone: str = Field("UTC", alias="BILLING_TIMEZONE")
    reminder_schedule: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [-7, 0, 3, 7, 14], alias="REMINDER_SCHEDULE"
    )
    public_url: str = Field("http://127.0.0.1:3000", alias="PUBLIC_URL")
    log_format: str = Field("text", alias="LOG_FORMAT")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # Empty means the default for the install type (see ``identity_verification_mode``).
    identity_verification: Literal["", "slack_email", "email_code"] = Field("", alias="IDENTITY_VERIFICATION")
    # Workspaces whose profile e-mails are trusted in slack_email mode (everyone else proves by code).
    slack_email_trusted_teams: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="SLACK_EMAIL_TRUSTED_TEAMS"
    )
    # Workspaces or Grid organizations allowed to install the app over OAuth; empty: any.
    slack_install_allowed_teams: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="SLACK_INSTALL_ALLOWED_TEAMS"
    )

    @field_validator("reminder_schedule", mode="before")
    @classmethod
    def _steps(cls, value: object) -> object:
        return _parse_steps(value)

    @field_validator("slack_email_trusted_teams", "slack_install_allowed_teams", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _parse_ids(value)

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

    def api_tokens(self) -> tuple[str, ...]:
        """The push API's bearer tokens (``BILLING_API_TOKEN``, comma-separated; blanks ignored)."""
        if self.billing_api_token is None:
            return ()
        return tuple(part.strip() for part in self.billing_api_token.get_secret_value().split(",") if part.strip())

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

    def check_identity_policy(self) -> None:
        """Refuse ``IDENTITY_VERIFICATION=slack_email`` with OAuth unless trusted workspaces are named.

        With OAuth any workspace may install the app, and its admins set the profile e-mails Slack
        shows: trusting them would let any installer act as any billing contact.
        """
        if self.oauth_enabled and self.identity_verification == "slack_email" and not self.slack_email_trusted_teams:
            raise ConfigurationError(
                "IDENTITY_VERIFICATION=slack_email with SLACK_CLIENT_ID (OAuth) would trust e-mails set by any "
                "installing workspace: set SLACK_EMAIL_TRUSTED_TEAMS or use email_code"
            )

    def check_invoice_source(self) -> None:
        """``INVOICE_SOURCE=stripe`` reads invoices from Stripe and hears of them by webhook: it needs
        ``STRIPE_API_KEY`` and ``STRIPE_WEBHOOK_SECRET``."""
        if self.invoice_source == "stripe":
            self.require("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET")

    def check_support_workspace(self) -> None:
        """With OAuth, ``SUPPORT_SLACK_CHANNEL`` needs ``SUPPORT_SLACK_TEAM``: a channel id alone does
        not say which of the installed workspaces holds it."""
        if self.oauth_enabled and self.support_slack_channel and not self.support_slack_team:
            raise ConfigurationError(
                "SUPPORT_SLACK_TEAM is required with SLACK_CLIENT_ID and SUPPORT_SLACK_CHANNEL but is not set"
            )

    def claim_trust(self) -> ClaimTrust:
        """Whose e-mail shown in Slack identifies them (slack_email mode): the users of
        ``SLACK_EMAIL_TRUSTED_TEAMS``, or when none is named everyone unless distributed by OAuth."""
        return ClaimTrust.of(self.slack_email_trusted_teams, trust_all=not self.oauth_enabled)

    def may_install(self, team_id: str | None, enterprise_id: str | None) -> bool:
        """True when ``SLACK_INSTALL_ALLOWED_TEAMS`` is empty or names the workspace or Grid org."""
        allowed = self.slack_install_allowed_teams
        return not allowed or any(value is not None and value in allowed for value in (team_id, enterprise_id))

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
