"""Accounts' ids: the list of the caller's accounts and switching between them."""

SHOW_ACCOUNTS_ACTION = "show_accounts"
SWITCH_ACCOUNT_ACTION = "switch_account"  # static_select; SwitchChoice (the option's text is the account id)
