"""Settings built from given environment variables, typed for mypy."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings


def settings_from(**env: str) -> Settings:
    """``Settings`` from these variables (by their environment names) and the process environment, never ``.env``.

    pydantic-settings types the options of ``BaseSettings.__init__`` (``_env_file``, ``_case_sensitive``, …),
    so unpacking a ``dict[str, str]`` beside them does not type-check; the variables pass here as ``Any``.
    """
    variables: dict[str, Any] = dict(env)
    return Settings(_env_file=None, **variables)
