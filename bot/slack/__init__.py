"""Slack: the Bolt app, OAuth and installations, Socket Mode, and the Slack adapters of the domain's ports."""
