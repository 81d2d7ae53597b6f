"""``billing-bot``, the command line: ``main`` is the console script."""

from bot.cli.main import app, main

__all__ = ["app", "main"]
