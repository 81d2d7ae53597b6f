"""The staff receivables view's ids (App Home of billing staff, its buttons and modals)."""

STAFF_PAGE_ACTION = "staff_page"  # StaffPage (Refresh)
STAFF_PREVIOUS_ACTION = "staff_page_previous"  # StaffPage
STAFF_NEXT_ACTION = "staff_page_next"  # StaffPage
STAFF_PAUSE_OPEN_ACTION = "staff_pause_open"  # StaffAccount
STAFF_RESUME_ACTION = "staff_resume"  # StaffAccount
STAFF_REMIND_NOW_ACTION = "staff_remind_now"  # StaffAccount
STAFF_CLOSE_OPEN_ACTION = "staff_close_open"  # StaffAccount
STAFF_REQUESTS_ACTION = "staff_requests"  # StaffAccount
STAFF_PAUSE_MODAL = "staff_pause_modal"  # private_metadata StaffAccount; read back as StaffPauseSubmission
STAFF_CLOSE_MODAL = "staff_close_modal"  # private_metadata StaffAccount; read back as StaffCloseSubmission
