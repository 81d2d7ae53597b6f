"""Where the payer was told a payment was received: the DM (channel, message ts) of its receipt.

Recorded when that DM is posted (after a Pay click, or by the notice outbox after a webhook or
reconcile settled it), once: the first receipt wins, and only the payer's own DM of a succeeded
payment is kept. A later refund or dispute is told as a reply in that message's thread
(``thread_of``); a payment without one (made before revision 0007, or whose receipt never
reached Slack) gets a new DM instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from billing_core.db.database import Database
from billing_core.db.tables import PaymentRecord

MAX_CHANNEL = 64
MAX_TS = 32


@dataclass(frozen=True, slots=True)
class DmThread:
    """A message in a DM: its channel and its ``ts`` (the thread's parent for replies)."""

    channel: str
    ts: str


class PaymentDmThreads:
    """Remembers each payment's receipt DM and answers where its thread is."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def remember(self, payment_id: int, principal: str, thread: DmThread) -> bool:
        """Keep ``thread`` as the receipt DM of the payment, if the payment succeeded, was made by
        ``principal`` and has none yet. True when kept."""
        if not thread.channel or not thread.ts or len(thread.channel) > MAX_CHANNEL or len(thread.ts) > MAX_TS:
            return False
        with self._db.transaction() as session:
            kept = session.execute(
                update(PaymentRecord)
                .where(
                    PaymentRecord.id == payment_id,
                    PaymentRecord.status == "succeeded",
                    PaymentRecord.started_by_principal == principal,
                    PaymentRecord.receipt_dm_ts.is_(None),
                )
                .values(receipt_dm_channel=thread.channel, receipt_dm_ts=thread.ts)
                .execution_options(synchronize_session=False)
            )
            return bool(kept.rowcount == 1)  # type: ignore[attr-defined]

    def thread_of(self, payment_id: int) -> DmThread | None:
        """The payment's receipt DM, if one was recorded."""
        with self._db.read() as session:
            payment = session.get(PaymentRecord, payment_id)
            if payment is None or not payment.receipt_dm_channel or not payment.receipt_dm_ts:
                return None
            return DmThread(payment.receipt_dm_channel, payment.receipt_dm_ts)
