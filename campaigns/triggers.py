"""What starts campaigns: schedules (django-celery-beat), purchases, website events (activity)
and the daily at-risk check.

Tasks take ids and are safe to run twice: a scheduled run is keyed by its day, an event
message by (campaign, contact) once ever.
"""
import json

from celery import shared_task
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from crm.tasks import queue_after_commit

from .models import Campaign
from .services import (
    at_risk_check_done,
    at_risk_check_last,
    campaign_event,
    campaign_run_start,
    contacts_fallen_at_risk,
    purchase_events,
)

DEFAULT_CRONTAB = {"minute": "0", "hour": "10", "day_of_week": "1"}  # Mondays 10:00


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


@shared_task(name="campaigns.detect_at_risk", ignore_result=True)
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


@shared_task(name="campaigns.website_event", ignore_result=True)
def website_event_task(contact_id: int, kind: str) -> None:
    campaign_event(contact_id=contact_id, event=Campaign.Event.WEBSITE_EVENT, event_kind=kind)


def website_event_after_commit(contact_id: int, kind: str) -> None:
    """Called by activity.services for a new, recent website event of this kind."""
    queue_after_commit(website_event_task, contact_id, kind,
                       consequence="the campaign is missed, the event is not")


def campaign_schedule_sync(campaign: Campaign) -> None:
    """Keep a scheduled campaign's periodic task in step with the campaign (on by default
    Mondays 10:00; managers change the time under Periodic tasks)."""
    if campaign.trigger != Campaign.Trigger.SCHEDULE:
        if campaign.schedule_id:
            PeriodicTask.objects.filter(pk=campaign.schedule_id).update(enabled=False)
        return
    if campaign.schedule is None:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            **DEFAULT_CRONTAB, day_of_month="*", month_of_year="*",
            timezone=timezone.get_default_timezone_name())
        campaign.schedule = PeriodicTask.objects.create(
            name=f"Campaign {campaign.pk}: {campaign.name}"[:200], task="campaigns.run_campaign",
            crontab=crontab, args=json.dumps([campaign.pk]), enabled=campaign.is_active)
        Campaign.objects.filter(pk=campaign.pk).update(schedule=campaign.schedule)
    elif campaign.schedule.enabled != campaign.is_active:
        PeriodicTask.objects.filter(pk=campaign.schedule_id).update(enabled=campaign.is_active)
