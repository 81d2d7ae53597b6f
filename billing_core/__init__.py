"""The billing domain: accounts, contacts, invoices, payments, reminders and escalations.

It knows nothing of Slack: callers identify people by e-mail and an opaque principal string.
"""
