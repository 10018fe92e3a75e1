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
import secrets
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from customers.models import Contact

from .audience import AudienceCriteria, audience_contacts
from .models import Campaign, CampaignRun
from .services import _enqueue_sending, _messages_create, _run_extras

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
        if crossed:
            written += _event_messages(campaign, crossed, now)
    return written


def _event_messages(campaign: Campaign, contact_ids: list[int], now: dt.datetime) -> int:
    """campaign_event's _event_message for a set of contacts: same run key, lock, audience,
    once-ever rule and holdout (each contact held out with the campaign's probability)."""
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
        contacts = (audience_contacts(AudienceCriteria.from_json(campaign.audience), now=now)
                    .filter(pk__in=contact_ids).exclude(messages__campaign=campaign))
        eligible = contacts.count()
        if not eligible:
            return 0
        run, _created = CampaignRun.objects.get_or_create(
            campaign=campaign, key=f"event:{timezone.localdate(now).isoformat()}",
            defaults={"status": CampaignRun.Status.SENDING, "started_at": now})
        # As many held out as one draw per contact gives (a binomial count), placed at random.
        held_out = sum(secrets.randbelow(100) < campaign.holdout_percent
                       for _contact in range(eligible))
        written = _messages_create(run, contacts, held_out=held_out, now=now,
                                   not_before=now + dt.timedelta(days=campaign.delay_days))
        _run_extras(run, contact_ids=contact_ids)
        if run.status != CampaignRun.Status.SENDING:
            CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.SENDING,
                                                         finished_at=None)
        if not campaign.delay_days:
            transaction.on_commit(lambda: _enqueue_sending(run.pk))
    return written
