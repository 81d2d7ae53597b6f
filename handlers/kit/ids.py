"""Action and view ids shared across listeners. Values inside Slack payloads are untrusted.

Each action's value is a model of ``handlers.kit.payloads`` (or of its subdomain's ``payloads``),
named next to the id.
"""

# Contact billing support: opens the escalation modal (SupportTarget).
SUPPORT_OPEN_ACTION = "support_open"
SUPPORT_MODAL_CALLBACK = "support_modal"  # private_metadata AccountRef; read back as SupportSubmission
SUPPORT_RESOLVE_ACTION = "support_resolve"  # EscalationRef

# Pay flow: the Pay button (PayTarget) opens the modal (metadata PayModalMetadata, read back as PaySubmission).
PAY_OPEN_ACTION = "pay_open"
PAY_MODAL_CALLBACK = "pay_modal"

# Reminders (DM buttons).
REMINDER_PAY_ACTION = "reminder_pay"
REMINDER_SNOOZE_ACTION = "reminder_snooze"  # SnoozeTarget
REMINDER_ALREADY_PAID_ACTION = "reminder_already_paid"  # InvoiceRef
# Consent, in the first DM (no value: the DM clicked, from Slack's signed request, is the reference).
REMINDER_NOT_ME_ACTION = "reminder_not_me"
REMINDER_STOP_ACTION = "reminder_stop"
# App Home: turn one account's reminders back on or off (AccountRef).
REMINDERS_ON_ACTION = "reminders_on"
REMINDERS_OFF_ACTION = "reminders_off"

# Screens of the Slack app (AccountRef).
SHOW_OVERVIEW_ACTION = "show_overview"
SHOW_INVOICES_ACTION = "show_invoices"
SHOW_METHODS_ACTION = "show_methods"
SHOW_HISTORY_ACTION = "show_history"  # HistoryPage
# Previous beside Next in one actions block: Slack refuses two equal action ids in a block.
SHOW_HISTORY_PREVIOUS_ACTION = "show_history_previous"  # HistoryPage
SHOW_ACCOUNTS_ACTION = "show_accounts"
SWITCH_ACCOUNT_ACTION = "switch_account"  # static_select; SwitchChoice (the option's text is the account id)

# Payment methods (MethodTarget).
METHOD_MAKE_DEFAULT_ACTION = "method_make_default"
METHOD_REMOVE_ACTION = "method_remove"
ADD_CARD_ACTION = "add_card"  # AccountRef
SHOW_METHODS_PAGE_ACTION = "show_methods_page"  # MethodsPage: "More cards" / "First cards"

# Pay modal inputs and views.
PAY_METHOD_BLOCK = "pay_method"
PAY_METHOD_SELECT = "pay_method_select"
ADD_CARD_MODAL_CALLBACK = "add_card_modal"
SCREEN_MODAL_CALLBACK = "screen_modal"

# URL buttons still send block_actions, which must be acked: their action ids start with this.
LINK_ACTION_PREFIX = "link_"

# Autopay: "Turn on/off autopay…" shows the confirmation (AutopayChoice); its button sets it (AutopaySet).
AUTOPAY_CONFIRM_ACTION = "autopay_confirm"
AUTOPAY_SET_ACTION = "autopay_set"

# E-mail verification: send a new code (also offered in a reminder that withheld its details).
VERIFY_RESEND_ACTION = "verify_resend_code"
