"""Where invoices come from: the import file, the push API, a full ledger and Stripe Billing,
and closing an invoice from outside (paid elsewhere, void)."""
