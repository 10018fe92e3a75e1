"""Contacts added to a campaign's audience by hand (the contact list's bulk action).

    campaign_members_add(campaign=c, contacts=queryset, added_by=user)   # -> newly added

The audience (campaigns.audience) is what the criteria select plus these contacts, or only
these with the criterion listed_only; consent and suppression apply to them as to everyone.
"""
from django.db import transaction
from django.db.models import QuerySet

from customers.models import Contact

from .models import Campaign, CampaignMember

CHUNK = 5000  # rows per INSERT: a whole filtered list of 100,000 in 20 statements


def campaign_members_add(*, campaign: Campaign, contacts: QuerySet[Contact],
                         added_by=None) -> int:
    """Add the contacts to the campaign's audience; ones added before are kept as they were
    (a second run adds nothing). Returns how many were newly added."""
    ids = list(contacts.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        before = CampaignMember.objects.filter(campaign=campaign).count()
        for start in range(0, len(ids), CHUNK):
            _insert(campaign, ids[start:start + CHUNK], added_by)
        added = CampaignMember.objects.filter(campaign=campaign).count() - before
    return added


def _insert(campaign: Campaign, contact_ids: list[int], added_by) -> None:
    CampaignMember.objects.bulk_create(
        [CampaignMember(campaign=campaign, contact_id=contact_id, added_by=added_by)
         for contact_id in contact_ids], ignore_conflicts=True)


def campaigns_for_members() -> QuerySet[Campaign]:
    """The campaigns contacts can be added to: those started by hand or on a schedule (an
    event campaign emails one contact at its event, not a list)."""
    return Campaign.objects.exclude(trigger=Campaign.Trigger.EVENT).order_by("name")
