"""slack-sdk's SQLAlchemy installation store with the tokens encrypted at rest.

With ``SLACK_TOKEN_ENCRYPTION_KEY`` set, every bot, user and refresh token is encrypted before it
is written to ``slack_bots`` / ``slack_installations`` and decrypted when read (``bot.slack.token_cipher``).
The token columns are ``TEXT``: slack-sdk's ``VARCHAR(200)`` cannot hold an encrypted rotating token.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from typing import TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from sqlalchemy import MetaData, Table, Text, desc, inspect, or_, select, text
from sqlalchemy.engine import Connection, Engine

from bot.slack.token_cipher import PREFIX, TokenCipher, TokenUnreadable, is_encrypted
from bot.slack.token_rotation import TokenRotation, installation_key, lock_installation, record_refresh

logger = logging.getLogger(__name__)

BOT_TOKEN_FIELDS = ("bot_token", "bot_refresh_token")
TOKEN_FIELDS = (*BOT_TOKEN_FIELDS, "user_token", "user_refresh_token")
Entity = TypeVar("Entity", Bot, Installation)


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """Encrypts tokens on save and decrypts them on find; without a cipher it stores plain text."""

    def __init__(
        self, *, client_id: str, engine: Engine, cipher: TokenCipher | None, rotation: TokenRotation | None = None
    ) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.cipher = cipher
        self.rotation = rotation

    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        return _wide_tokens(super().build_installations_table(metadata, table_name), TOKEN_FIELDS)

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        return _wide_tokens(super().build_bots_table(metadata, table_name), BOT_TOKEN_FIELDS)

    def create_tables(self) -> None:
        super().create_tables()  # type: ignore[no-untyped-call]
        self._widen_existing_columns()

    def save(self, installation: Installation) -> None:
        super().save(self._sealed(installation, TOKEN_FIELDS))

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(self._sealed(bot, BOT_TOKEN_FIELDS))

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        found = super().find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return self._usable_bot(found)

    def find_bots(self, team_ids: Sequence[str]) -> dict[str, Bot | None]:
        """``find_bot`` for many workspaces outside any Grid organization, one query per 500 (a
        sweep's next workspaces): the latest bot with a token of each, checked, opened and
        refreshed as ``find_bot`` does; ``None`` for a workspace without one."""
        c = self.bots.c
        latest: dict[str, Bot] = {}
        teams = sorted(set(team_ids))
        with self.engine.connect() as connection:
            for start in range(0, len(teams), 500):
                query = (
                    self.bots.select()
                    .where(
                        c.client_id == self.client_id,
                        c.enterprise_id.is_(None),
                        c.team_id.in_(teams[start : start + 500]),
                        c.bot_token.is_not(None),
                    )
                    .order_by(desc(c.installed_at))
                )
                for row in connection.execute(query).mappings():
                    latest.setdefault(str(row["team_id"]), self.build_bot_entity(row))
        return {team: self._usable_bot(latest.get(team)) for team in teams}

    def _usable_bot(self, found: Bot | None) -> Bot | None:
        usable = found is None or self.usable(found.team_id, found.enterprise_id)
        bot = self._opened(found if usable else None, BOT_TOKEN_FIELDS)
        if bot is None or self.rotation is None or not self.rotation.expiring(bot):
            return bot
        return self._refreshed(bot)

    def _refreshed(self, stale: Bot) -> Bot:
        """``stale``'s installation with a fresh token: refreshed here under the installation's row
        lock, or by another replica just before (``bot.slack.token_rotation``)."""
        assert self.rotation is not None
        key = installation_key(stale)
        with self.engine.begin() as connection:
            lock_installation(connection, key)
            current = self._latest_bot(connection, stale) or stale
            if not self.rotation.expiring(current):
                return current  # another replica refreshed it while this one waited
            rotated = self.rotation.rotate(current)
            if rotated is None:
                return current
            self._write_bot(connection, rotated)
            record_refresh(connection, key, time.time())
        logger.info("Slack token of %s refreshed", key)
        return rotated

    def _latest_bot(self, connection: Connection, like: Bot) -> Bot | None:
        c = self.bots.c
        row = (
            connection.execute(
                self.bots.select()
                .where(
                    c.client_id == self.client_id,
                    c.enterprise_id == like.enterprise_id,
                    c.team_id == like.team_id,
                    c.bot_token.is_not(None),
                )
                .order_by(desc(c.installed_at))
                .limit(1)
            )
            .mappings()
            .first()
        )
        return self._opened(self.build_bot_entity(row), BOT_TOKEN_FIELDS) if row is not None else None

    def _write_bot(self, connection: Connection, bot: Bot) -> None:
        """The refreshed tokens (sealed) over the installation's latest row, in ``connection``'s transaction."""
        values = self._sealed(bot, BOT_TOKEN_FIELDS).to_dict()
        values["client_id"] = self.client_id
        values["installed_at"] = normalize_datetime_for_db(values.get("installed_at"))
        values["bot_token_expires_at"] = normalize_datetime_for_db(values.get("bot_token_expires_at"))
        c = self.bots.c
        changed = connection.execute(
            self.bots.update()
            .where(
                c.client_id == self.client_id,
                c.enterprise_id == bot.enterprise_id,
                c.team_id == bot.team_id,
                c.installed_at == values["installed_at"],
            )
            .values(**values)
        )
        if not changed.rowcount:
            connection.execute(self.bots.insert(), values)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = super().find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, is_enterprise_install=is_enterprise_install
        )
        return self._opened(
            found if found is None or self.usable(found.team_id, found.enterprise_id) else None, TOKEN_FIELDS
        )

    def usable(self, team_id: str | None, enterprise_id: str | None) -> bool:
        """Whether a stored installation of this workspace may be used (a subclass's policy; all here)."""
        return True

    def holds_encrypted_tokens(self) -> bool:
        """True when any stored token is encrypted (reading them needs SLACK_TOKEN_ENCRYPTION_KEY)."""
        with self.engine.connect() as connection:
            for table, fields in ((self.bots, BOT_TOKEN_FIELDS), (self.installations, TOKEN_FIELDS)):
                encrypted = or_(*(table.c[field].like(f"{PREFIX}%") for field in fields))
                if connection.execute(select(table.c.id).where(encrypted).limit(1)).first() is not None:
                    return True
        return False

    def reencrypt(self) -> int:
        """Encrypt every stored token under the first configured key (plain text and older keys
        alike); returns how many rows changed. For ``billing-bot installations reencrypt``."""
        if self.cipher is None:
            return 0
        changed = 0
        with self.engine.begin() as connection:
            for table, fields in ((self.bots, BOT_TOKEN_FIELDS), (self.installations, TOKEN_FIELDS)):
                for row in connection.execute(table.select()).mappings().all():
                    values = {field: self.cipher.rotate(row[field]) for field in fields}
                    if any(values[field] != row[field] for field in fields):
                        connection.execute(table.update().where(table.c.id == row["id"]).values(**values))
                        changed += 1
        return changed

    def _sealed(self, entity: Entity, fields: tuple[str, ...]) -> Entity:
        if self.cipher is None:
            return entity
        sealed = copy.copy(entity)  # the caller (Bolt) goes on using its own copy in plain text
        for field in fields:
            setattr(sealed, field, self.cipher.encrypt(getattr(entity, field, None)))
        return sealed

    def _opened(self, entity: Entity | None, fields: tuple[str, ...]) -> Entity | None:
        if entity is None:
            return None
        if self.cipher is None:  # ciphertext is never handed out as a token (sent to Slack as a bearer)
            values = (getattr(entity, field, None) for field in fields)
            if any(isinstance(value, str) and is_encrypted(value) for value in values):
                logger.error("a stored Slack token of team %s is encrypted and no key is set", entity.team_id)
                return None
            return entity
        try:
            for field in fields:
                setattr(entity, field, self.cipher.decrypt(getattr(entity, field, None)))
        except TokenUnreadable:
            logger.error(
                "a stored Slack token of team %s cannot be decrypted with SLACK_TOKEN_ENCRYPTION_KEY", entity.team_id
            )
            return None
        return entity

    def _widen_existing_columns(self) -> None:
        # Tables created by an earlier version have VARCHAR(200) token columns; PostgreSQL enforces
        # the length (SQLite does not), so they become TEXT once.
        if self.engine.dialect.name != "postgresql":
            return
        inspector = inspect(self.engine)
        with self.engine.begin() as connection:
            for table, fields in ((self.bots, BOT_TOKEN_FIELDS), (self.installations, TOKEN_FIELDS)):
                columns = {column["name"]: column["type"] for column in inspector.get_columns(table.name)}
                for field in fields:
                    if field in columns and not isinstance(columns[field], Text):
                        connection.execute(text(f'ALTER TABLE "{table.name}" ALTER COLUMN "{field}" TYPE TEXT'))


def _wide_tokens(table: Table, fields: tuple[str, ...]) -> Table:
    for field in fields:
        table.c[field].type = Text()
    return table
