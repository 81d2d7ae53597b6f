"""Autopay: charging open invoices with the account's default card on their due date, and
telling the contacts when that card is about to expire."""
