"""Payments' ids: the pay modal and its card picker, the card list's buttons and pages, history pages."""

PAY_MODAL_CALLBACK = "pay_modal"
SHOW_HISTORY_PREVIOUS_ACTION = "show_history_previous"  # HistoryPage
METHOD_MAKE_DEFAULT_ACTION = "method_make_default"
METHOD_REMOVE_ACTION = "method_remove"
SHOW_METHODS_PAGE_ACTION = "show_methods_page"  # MethodsPage: "More cards" / "First cards"
PAY_METHOD_BLOCK = "pay_method"
PAY_METHOD_SELECT = "pay_method_select"
