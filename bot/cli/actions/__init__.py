"""The work behind the commands of ``bot.cli``, one module per command group; imported when a command runs."""
