"""Identity's ids: entering the e-mailed code."""

VERIFY_ENTER_ACTION = "verify_enter_code"
VERIFY_MODAL_CALLBACK = "verify_code_modal"
VERIFY_CODE_BLOCK = "verify_code"
VERIFY_CODE_INPUT = "verify_code_input"
