"""Escalations' ids: the support modal and the staff's "Mark resolved"."""

SUPPORT_MODAL_CALLBACK = "support_modal"  # private_metadata AccountRef; read back as SupportSubmission
SUPPORT_RESOLVE_ACTION = "support_resolve"  # EscalationRef
