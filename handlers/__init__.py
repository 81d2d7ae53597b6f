"""Slack listeners and pure Block Kit builders. Thin: they call billing_core services and render."""
