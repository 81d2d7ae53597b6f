"""Action and view ids shared across listeners. Values inside Slack payloads are untrusted.

Each action's value is a model of ``handlers.kit.payloads`` (or of its subdomain's ``payloads``),
named next to the id.
"""

# Contact billing support: opens the escalation modal (SupportTarget).
SUPPORT_OPEN_ACTION = "support_open"

# Pay flow: the Pay button (PayTarget) opens the modal (metadata PayModalMetadata, read back as PaySubmission).
PAY_OPEN_ACTION = "pay_open"

# Reminders (DM buttons).
REMINDER_PAY_ACTION = "reminder_pay"
# Consent, in the first DM (no value: the DM clicked, from Slack's signed request, is the reference).
# App Home: turn one account's reminders back on or off (AccountRef).

# Screens of the Slack app (AccountRef).
SHOW_OVERVIEW_ACTION = "show_overview"
SHOW_INVOICES_ACTION = "show_invoices"
SHOW_METHODS_ACTION = "show_methods"
SHOW_HISTORY_ACTION = "show_history"  # HistoryPage
# Previous beside Next in one actions block: Slack refuses two equal action ids in a block.

# Payment methods (MethodTarget).
ADD_CARD_ACTION = "add_card"  # AccountRef

# Pay modal inputs and views.
ADD_CARD_MODAL_CALLBACK = "add_card_modal"
SCREEN_MODAL_CALLBACK = "screen_modal"

# URL buttons still send block_actions, which must be acked: their action ids start with this.
LINK_ACTION_PREFIX = "link_"

# Autopay: "Turn on/off autopay…" shows the confirmation (AutopayChoice); its button sets it (AutopaySet).
AUTOPAY_CONFIRM_ACTION = "autopay_confirm"

# E-mail verification: send a new code (also offered in a reminder that withheld its details).
VERIFY_RESEND_ACTION = "verify_resend_code"
