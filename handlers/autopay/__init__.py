"""Autopay in Slack: the status screen and its confirmations, and the DMs autopay sends."""
