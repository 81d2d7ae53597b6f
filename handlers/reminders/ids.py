"""Reminders' ids: the buttons of a reminder DM, its consent buttons, and reminders on/off."""

REMINDER_SNOOZE_ACTION = "reminder_snooze"  # SnoozeTarget
REMINDER_ALREADY_PAID_ACTION = "reminder_already_paid"  # InvoiceRef
REMINDER_NOT_ME_ACTION = "reminder_not_me"
REMINDER_STOP_ACTION = "reminder_stop"
REMINDERS_ON_ACTION = "reminders_on"
REMINDERS_OFF_ACTION = "reminders_off"
