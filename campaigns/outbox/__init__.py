"""The outbox: claim rows, check them again at send time, send over SMTP, record.

The guarantee (docs/email-delivery.md has the long form):

* A row is sent only by the worker whose claim moved it QUEUED → SENDING (a conditional
  UPDATE, committed before any SMTP traffic), so two workers, or one task delivered twice,
  never send the same row.
* Just before a row's email is handed to the SMTP server its `sent_at` is stamped (the
  "hand-off" mark), in the same commit that records the previous row's result. A row still
  SENDING after CRM_EMAIL_STUCK_AFTER_MINUTES therefore tells recovery what happened:
  no hand-off mark → never offered to the server → back to QUEUED (nothing lost);
  hand-off mark → the server may or may not have it → UNKNOWN, never resent automatically.
  Only one row per connection carries the mark without a result, so a killed worker leaves
  at most one UNKNOWN row per open connection.
* SMTP replies are unambiguous and recorded as they come: 250 → SENT, 4xx or a connection
  lost before the body went out → QUEUED again after a back-off, 5xx for the recipient →
  BOUNCED and the address suppressed. A connection lost while the body was going out or the
  final reply was awaited is the same ambiguity as a kill → UNKNOWN.

Consent, suppression and the frequency cap are checked after the claim, at send time, so an
unsubscribe that lands after the audience was built still wins.

Modules: claim (claims and batch leases), checks (send-time checks), batch (sending a claimed
batch), record (results under the claim), recover (dead batches, stuck rows, drained runs),
outcomes (reason codes, retry schedule, reports). The protocol is campaigns.smtp; the
suppression list campaigns.suppression.
"""
from .batch import send_claimed, send_due_messages
from .claim import claim_batch
from .outcomes import (
    BACKOFF_MINUTES,
    BOUGHT_SINCE,
    FREQUENCY_CAP,
    MAX_ATTEMPTS,
    NO_CONSENT,
    NO_EMAIL,
    SUPPRESSED_PREFIX,
    SendReport,
    reason_label,
)
from .recover import (
    RecoveryReport,
    recover_dead_batches,
    recover_stuck_messages,
    requeue_unknown_messages,
    run_finish_if_drained,
)

__all__ = [
    "BACKOFF_MINUTES", "BOUGHT_SINCE", "FREQUENCY_CAP", "MAX_ATTEMPTS", "NO_CONSENT", "NO_EMAIL",
    "SUPPRESSED_PREFIX", "RecoveryReport", "SendReport", "claim_batch", "reason_label",
    "recover_dead_batches", "recover_stuck_messages", "requeue_unknown_messages",
    "run_finish_if_drained", "send_claimed", "send_due_messages",
]
