"""``billing-bot identities``: links between Slack users and proven e-mail addresses."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import guarded, require_current_schema, settings_or_exit

identities_app = typer.Typer(no_args_is_help=True, help="Links between Slack users and proven e-mail addresses.")


@identities_app.command("revoke")
def identities_revoke(
    who: Annotated[str, typer.Argument(help="A verified e-mail, a Slack user id (U123) or principal (slack:T1:U123)")],
) -> None:
    """Unlink Slack users from a proven e-mail: they must verify again (email_code mode)."""
    from bot.cli.actions.identities import revoke_identities

    settings = settings_or_exit()
    require_current_schema(settings)
    for line in guarded(lambda: revoke_identities(settings, who)):
        typer.echo(line)
