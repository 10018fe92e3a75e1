"""What a sending batch reports: the reason codes stored on rows that were not sent, the
retry schedule, and the counts of one batch."""
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from ..models import Message, Suppression

# Minutes to wait before the 2nd, 3rd, ... attempt after a temporary failure; then FAILED.
BACKOFF_MINUTES = (1, 5, 30, 120, 360)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1

# Machine-readable reasons stored in Message.last_error for rows that were not sent.
NO_EMAIL, NO_CONSENT, FREQUENCY_CAP = "no_email", "no_consent", "frequency_cap"
BOUGHT_SINCE = "bought_since"
DIED_PREPARING = "worker_died_preparing"
SUPPRESSED_PREFIX = "suppressed:"
REASON_LABELS = {
    NO_EMAIL: _("The contact has no email address."),
    NO_CONSENT: _("The contact has not agreed to marketing email."),
    FREQUENCY_CAP: _("The contact got a marketing email too recently."),
    BOUGHT_SINCE: _("The contact has bought since the email was queued."),
    SUPPRESSED_PREFIX + Suppression.Reason.UNSUBSCRIBED: _("The address unsubscribed."),
    SUPPRESSED_PREFIX + Suppression.Reason.BOUNCED: _("The address bounced before."),
    SUPPRESSED_PREFIX + Suppression.Reason.COMPLAINED: _("The address marked us as spam."),
    SUPPRESSED_PREFIX + Suppression.Reason.ERASED: _("The contact's data was erased."),
    "paused:detractor": _("The contact gave an unhappy survey answer recently."),
    "paused:not_interested": _("The contact said on a call that they were not interested."),
    "paused:manager": _("A manager paused promotional email to the contact."),
    DIED_PREPARING: _("The sending worker stopped while preparing this email, each time it "
                      "was tried. It was set aside so that it cannot stop the other emails."),
}


def reason_label(reason: str) -> str:
    """A translated explanation of a stored reason code; other text (SMTP errors) as is."""
    return str(REASON_LABELS.get(reason, reason))


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    suppressed: int = 0
    capped: int = 0
    deferred: int = 0
    failed: int = 0
    bounced: int = 0
    unknown: int = 0
    run_ids: set[int] = field(default_factory=set)

    def count(self, status: str) -> None:
        """One more row that ended in `status` (QUEUED again: deferred)."""
        name = _COUNTERS[status]
        setattr(self, name, getattr(self, name) + 1)


_COUNTERS = {Message.Status.SENT: "sent", Message.Status.SUPPRESSED: "suppressed",
             Message.Status.CAPPED: "capped", Message.Status.QUEUED: "deferred",
             Message.Status.FAILED: "failed", Message.Status.BOUNCED: "bounced",
             Message.Status.UNKNOWN: "unknown"}
