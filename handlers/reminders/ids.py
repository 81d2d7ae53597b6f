"""Reminders' ids: the buttons of a reminder DM, its consent buttons, reminders on/off, and the
promise to pay's modal."""

REMINDER_SNOOZE_ACTION = "reminder_snooze"  # SnoozeTarget
REMINDER_ALREADY_PAID_ACTION = "reminder_already_paid"  # InvoiceRef
REMINDER_NOT_ME_ACTION = "reminder_not_me"
REMINDER_STOP_ACTION = "reminder_stop"
REMINDERS_ON_ACTION = "reminders_on"
REMINDERS_OFF_ACTION = "reminders_off"
REMINDER_PROMISE_OPEN_ACTION = "reminder_promise_open"  # AccountRef
REMINDER_PROMISE_MODAL = "reminder_promise_modal"  # private_metadata AccountRef; read back as PromiseSubmission
