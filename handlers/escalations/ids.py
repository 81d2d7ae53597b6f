"""Escalations' ids: the support modal and the staff's "Mark resolved"."""

SUPPORT_MODAL_CALLBACK = "support_modal"  # private_metadata AccountRef; read back as SupportSubmission
SUPPORT_RESOLVE_ACTION = "support_resolve"  # EscalationRef
SUPPORT_FILE_SEND_ACTION = "support_file_send"  # FileOffer: a file sent to the app, on its way to billing support
SUPPORT_FILE_CANCEL_ACTION = "support_file_cancel"  # no value: the offer is withdrawn
SUPPORT_STATE_ACTION = "support_state"  # StateChange: staff's "Waiting on customer" / "Back to open" / "Reopen"
SUPPORT_REQUESTER_STATE_ACTION = "support_requester_state"  # StateChange: the requester's buttons in their DM thread
