"""What starts campaigns: schedules (django-celery-beat rows kept by
campaigns.campaign_service), purchases, website events (activity),
the daily at-risk check and the daily reorder check (campaigns.reorder).

Tasks take ids and are safe to run twice: a scheduled run is keyed by its day, an event
message by (campaign, contact) once ever.
"""
from celery import shared_task
from django.utils import timezone

from crm.locks import single_run
from crm.tasks import queue_after_commit

from .models import Campaign
from .reorder import reorder_check
from .services import (
    at_risk_check_done,
    at_risk_check_last,
    campaign_event,
    campaign_run_start,
    contacts_fallen_at_risk,
    purchase_events,
)


@shared_task(name="campaigns.run_campaign", ignore_result=True)
def run_campaign_task(campaign_id: int) -> None:
    """A scheduled campaign's run for today (a second delivery the same day does nothing)."""
    campaign = Campaign.objects.filter(pk=campaign_id, is_active=True,
                                       trigger=Campaign.Trigger.SCHEDULE).first()
    if campaign is None:
        return
    campaign_run_start(campaign=campaign, key=f"schedule:{timezone.localdate().isoformat()}")


def purchase_events_fire(contact_id: int) -> None:
    """Event campaigns after one purchase (customers.hooks.purchase_committed: the worker
    calls it once the contact is re-scored)."""
    for event in purchase_events(contact_id=contact_id):
        campaign_event(contact_id=contact_id, event=event)


@shared_task(name="campaigns.purchase_recorded", ignore_result=True)
def purchase_recorded_task(contact_id: int) -> None:
    """Kept as a task for messages queued by earlier releases."""
    purchase_events_fire(contact_id)


# Locked: two copies at once would both walk every repeat client and race on each event.
@shared_task(name="campaigns.detect_at_risk", ignore_result=True)
@single_run("campaigns.detect_at_risk")
def detect_at_risk_task() -> None:
    from webhooks.services import contacts_at_risk_emit  # webhooks imports customers

    # Everyone who crossed the line since the last completed check: a missed day is caught up.
    # Campaigns (once per contact) and webhooks (once per silence) never send anyone twice.
    now = timezone.now()
    fallen = contacts_fallen_at_risk(now=now, since=at_risk_check_last())
    for contact_id in fallen:
        campaign_event(contact_id=contact_id, event=Campaign.Event.FELL_AT_RISK, now=now)
    contacts_at_risk_emit(fallen)  # contact.at_risk webhooks, once per contact and silence
    at_risk_check_done(now)


# Locked: two copies at once would wait on each campaign's lock and find the work done.
@shared_task(name="campaigns.reorder_check", ignore_result=True)
@single_run("campaigns.reorder_check")
def reorder_check_task() -> None:
    """Daily, after the nightly product figures: "time to reorder" reminders due today."""
    reorder_check()


@shared_task(name="campaigns.failure_digest", ignore_result=True)
def failure_digest_task() -> None:
    """Daily: managers get the emails that failed for good since the last digest (once a day,
    even if run twice: campaigns.digest claims the day first). Not a campaign trigger; here so
    that campaigns.tasks registers it."""
    from .digest import failure_digest_send

    failure_digest_send()


@shared_task(name="campaigns.website_event", ignore_result=True)
def website_event_task(contact_id: int, kind: str) -> None:
    campaign_event(contact_id=contact_id, event=Campaign.Event.WEBSITE_EVENT, event_kind=kind)


def website_event_after_commit(contact_id: int, kind: str) -> None:
    """Called by activity.services (activity.hooks) for a new, recent website event of this kind."""
    queue_after_commit(website_event_task, contact_id, kind,
                       consequence="the campaign is missed, the event is not")
