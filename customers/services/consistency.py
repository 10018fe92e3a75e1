"""Consistency: re-derive the stored figures and purchase days from the purchases."""
from dataclasses import dataclass

from django.db import transaction
from django.db.models.functions import TruncDate

from ..models import Contact, Purchase
from ..normalise import shop_timezone
from ..scoring.freshness import scores_refresh_after_commit
from ..stats import contacts_refresh_stats, contacts_with_drift


@dataclass(frozen=True)
class DriftReport:
    checked: int
    drifted: int
    sample_ids: list[int]
    # Purchases whose shop-local day was wrong (the shop's time zone changed since).
    days_corrected: int = 0


def contacts_rederive_stats(*, fix: bool = True) -> DriftReport:
    """Compare every contact's stored figures with its purchases; fix those that differ.

    Purchase days come first: after a change of the shop's time zone (CRM_TIME_ZONE) they are
    re-derived, and with them the figures that count days."""
    days = purchases_rederive_days(fix=fix)
    drifted_ids = list(contacts_with_drift().values_list("pk", flat=True))
    if fix and drifted_ids:
        with transaction.atomic():
            contacts_refresh_stats(drifted_ids)
    return DriftReport(
        checked=Contact.objects.count(), drifted=len(drifted_ids), sample_ids=drifted_ids[:20],
        days_corrected=days,
    )


def purchases_rederive_days(*, fix: bool = True) -> int:
    """Purchases whose day (purchased_on) is not their shop-local day: corrected, with their
    contacts' figures, contact by contact in id order as every writer locks. Returns how many
    were (or, without fix, would be) corrected."""
    shop_day_of = TruncDate("purchased_at", tzinfo=shop_timezone())
    wrong = Purchase.objects.exclude(purchased_on=shop_day_of)
    if not fix:
        return wrong.count()
    contact_ids = sorted(set(wrong.values_list("contact_id", flat=True)))
    corrected = 0
    for start in range(0, len(contact_ids), _REDERIVE_CHUNK):
        chunk = contact_ids[start:start + _REDERIVE_CHUNK]
        with transaction.atomic():
            list(Contact.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
                 .values_list("pk"))
            corrected += wrong.filter(contact_id__in=chunk).update(purchased_on=shop_day_of)
            contacts_refresh_stats(chunk)
            scores_refresh_after_commit(chunk)  # their purchase days moved: so do their scores
    return corrected


_REDERIVE_CHUNK = 2000
