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

# Screens of the Slack app (button values are JSON {"account": "<external id>", ...}).
SHOW_OVERVIEW_ACTION = "show_overview"
SHOW_INVOICES_ACTION = "show_invoices"
SHOW_METHODS_ACTION = "show_methods"
SHOW_HISTORY_ACTION = "show_history"  # value adds "page": <int>
SHOW_ACCOUNTS_ACTION = "show_accounts"
SWITCH_ACCOUNT_ACTION = "switch_account"  # static_select; option value is the account external id

# Payment methods (value JSON {"account": "<external id>", "method": "<pm id>"}).
METHOD_MAKE_DEFAULT_ACTION = "method_make_default"
METHOD_REMOVE_ACTION = "method_remove"
ADD_CARD_ACTION = "add_card"  # value JSON {"account": "<external id>"}

# Pay modal inputs and views.
PAY_METHOD_BLOCK = "pay_method"
PAY_METHOD_SELECT = "pay_method_select"
ADD_CARD_MODAL_CALLBACK = "add_card_modal"
SCREEN_MODAL_CALLBACK = "screen_modal"

# URL buttons still send block_actions, which must be acked: their action ids start with this.
LINK_ACTION_PREFIX = "link_"
