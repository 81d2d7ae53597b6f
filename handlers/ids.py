"""Action and view ids shared across listeners. Values inside Slack payloads are untrusted."""

# Contact billing support: opens the escalation modal. The button's value is JSON,
# {"account": "<external id>", "invoice": "<number or empty>", "topic": "<topic key or empty>"}.
SUPPORT_OPEN_ACTION = "support_open"
SUPPORT_MODAL_CALLBACK = "support_modal"
SUPPORT_RESOLVE_ACTION = "support_resolve"

# Pay flow. The pay button's value is JSON {"account": "<external id>", "invoice": "<number>"}
# or {"account": "<external id>", "balance": true}.
PAY_OPEN_ACTION = "pay_open"
PAY_MODAL_CALLBACK = "pay_modal"

# Reminders (DM buttons).
REMINDER_PAY_ACTION = "reminder_pay"
REMINDER_SNOOZE_ACTION = "reminder_snooze"
REMINDER_ALREADY_PAID_ACTION = "reminder_already_paid"
