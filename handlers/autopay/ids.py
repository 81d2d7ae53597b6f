"""Autopay's ids: the confirmation's button."""

AUTOPAY_SET_ACTION = "autopay_set"
