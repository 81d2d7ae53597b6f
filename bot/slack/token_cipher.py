"""Encryption of the Slack tokens kept in the database (``SLACK_TOKEN_ENCRYPTION_KEY``).

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under keys from the environment, so a
copy of the database alone holds no usable token. Several keys may be given, comma-separated: the
first encrypts, every one decrypts; that is how a key is rotated (see SECURITY.md). A stored value
is ``enc:v1:<fernet token>``; a value without that prefix was stored in plain text before a key
was configured and is read as it is until ``billing-bot installations reencrypt`` encrypts it.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from billing_core.errors import ConfigurationError

PREFIX = "enc:v1:"


class TokenUnreadable(Exception):
    """A stored token that none of the configured keys decrypts (its key was removed)."""


class TokenCipher:
    """Encrypts and decrypts token strings; ``None`` and plain-text legacy values pass through."""

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        try:
            self._fernet = MultiFernet([Fernet(part) for part in parts])
        except ValueError as error:
            raise ConfigurationError(
                "SLACK_TOKEN_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            ) from error

    def encrypt(self, value: str | None) -> str | None:
        if value is None or is_encrypted(value):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        if value is None or not is_encrypted(value):
            return value
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken as error:
            raise TokenUnreadable("no configured key decrypts this token") from error

    def rotate(self, value: str | None) -> str | None:
        """``value`` encrypted under the first key (plain text is encrypted, old keys re-encrypted)."""
        if value is None:
            return None
        if not is_encrypted(value):
            return self.encrypt(value)
        try:
            return PREFIX + self._fernet.rotate(value[len(PREFIX) :].encode()).decode()
        except InvalidToken as error:
            raise TokenUnreadable("no configured key decrypts this token") from error


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)
