"""The local console: a pretend Slack workspace in the terminal, driving the real Bolt app."""
