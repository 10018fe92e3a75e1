"""Reads of the consent ledger for screens."""
from customers.models import Contact

from .models import ConsentRecord

HISTORY_SHOWN = 50


def contact_consent_history(*, contact: Contact, limit: int = HISTORY_SHOWN) -> list[ConsentRecord]:
    """Newest first, with the wording and the recording user in the same query."""
    return list(ConsentRecord.objects.filter(contact=contact)
                .select_related("wording", "recorded_by").order_by("-occurred_at", "-id")[:limit])
