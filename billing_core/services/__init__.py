"""Use cases. Each public method is one transaction and returns views from ``billing_core.views``."""
