"""Pure Block Kit builders: domain views in, Slack JSON out. No I/O, no services."""
