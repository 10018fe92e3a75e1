"""Purchase events (first purchase, became a repeat client, Nth purchase) for many contacts
at once: what campaign_event does for one contact after one purchase, for an import's chunk.

A contact "crossed" an event when its purchase count (distinct shop days) went from below the
event's number to at least it: first purchase = 1, repeat = 2, Nth = the campaign's number.
For one purchase this is exactly campaigns.services.purchase_events (count == 1, == 2, == N);
for an import that added several purchases to one contact, every threshold passed fires once.

Queries per chunk: one for the counts now, one for the event campaigns, then per matching
campaign (not per contact) one locked INSERT ... SELECT of its messages, as campaign_event.
"""
import datetime as dt
from collections.abc import Mapping

from django.utils import timezone

from customers.models import Contact

from .models import Campaign
from .services import event_messages_write, sendable

_THRESHOLD = {Campaign.Event.FIRST_PURCHASE: 1, Campaign.Event.BECAME_REPEAT: 2}


def purchases_events_fire(counts_before: Mapping[int, int], *,
                          now: dt.datetime | None = None) -> int:
    """Queue the event campaigns these contacts' new purchases crossed; returns messages
    written (held-out rows included). Safe to run twice: a campaign emails a contact once."""
    now = now or timezone.now()
    after = dict(Contact.objects.filter(pk__in=list(counts_before))
                 .values_list("pk", "purchase_count"))
    campaigns = Campaign.objects.filter(is_active=True, trigger=Campaign.Trigger.EVENT,
                                        event__in=[*_THRESHOLD, Campaign.Event.NTH_PURCHASE])
    written = 0
    for campaign in campaigns.order_by("pk"):
        number = _THRESHOLD.get(campaign.event, campaign.event_purchase_number)
        if not number:
            continue
        crossed = sorted(pk for pk, count in after.items()
                         if counts_before[pk] < number <= count)
        if crossed and sendable(campaign):
            written += event_messages_write(campaign, crossed, now=now)
    return written
