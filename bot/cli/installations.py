"""``billing-bot installations``: the Slack workspaces installed over OAuth."""

from __future__ import annotations

import typer

from bot.cli.common import guarded, require_current_schema, settings_or_exit

installations_app = typer.Typer(no_args_is_help=True, help="Slack workspaces installed over OAuth.")


@installations_app.command("reencrypt")
def installations_reencrypt() -> None:
    """Encrypt every stored Slack token under the first SLACK_TOKEN_ENCRYPTION_KEY (after adding or rotating one)."""
    from bot.slack.oauth import reencrypt_tokens

    settings = settings_or_exit()
    require_current_schema(settings)
    typer.echo(guarded(lambda: reencrypt_tokens(settings)))
