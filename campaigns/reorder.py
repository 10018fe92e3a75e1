""""Time to reorder": a reminder when a contact's typical interval for a product has passed.

The daily check (campaigns.reorder_check) reads what is due (customers.bought.selectors.
reorder_due: the contact's own median interval where they bought the product on two days or
more, else the product's, computed nightly) and, for each active "time to reorder" campaign,
queues one email per contact through the ordinary event path (campaigns.services.
event_messages_write): the campaign's audience (consent and suppression included), its
holdout, the send-time checks (frequency cap, consent again) like every triggered campaign.

A contact with several products due gets the most overdue one today; the others come on
later days. Each row is recorded as a ReorderReminder (campaign, contact, product, last day
bought), unique, so a product is not recalled twice for the same purchase, held out or not;
buying it again moves its last day and, once its interval passes, allows a new reminder.
A reminder still waiting to be sent when the product is bought again is not sent
(campaigns.outbox.checks, at send time).
"""
import datetime as dt

from django.db import transaction
from django.utils import timezone

from customers.bought.selectors import ReorderDue, reorder_due

from .models import Campaign, CampaignRun, Message, ReorderReminder
from .services import event_messages_write, sendable

RUN_KEY = "reorder"


def reorder_campaigns():
    # Not a journey (JourneyStep.clean() refuses steps here): a reminder is one product's row.
    return Campaign.objects.filter(is_active=True, trigger=Campaign.Trigger.EVENT,
                                   event=Campaign.Event.REORDER_DUE,
                                   steps__isnull=True).order_by("pk")


def reorder_check(*, now: dt.datetime | None = None) -> int:
    """Queue today's reminders for every active "time to reorder" campaign; returns rows
    written (held-out ones included). Safe to run twice: the second run finds them done."""
    now = now or timezone.now()
    campaigns = [campaign for campaign in reorder_campaigns() if sendable(campaign)]
    if not campaigns:
        return 0
    due = reorder_due(today=timezone.localdate(now))
    return sum(_campaign_reminders(campaign, due, now) for campaign in campaigns)


def _first_per_contact(due: list[ReorderDue], done: set[tuple]) -> dict[int, ReorderDue]:
    chosen: dict[int, ReorderDue] = {}
    for item in sorted(due, key=lambda d: (d.contact_id, d.due_on, d.product_id)):
        if (item.contact_id, item.product_id, item.last_purchased_on) not in done:
            chosen.setdefault(item.contact_id, item)
    return chosen


def _campaign_reminders(campaign: Campaign, due: list[ReorderDue], now: dt.datetime) -> int:
    if not due:
        return 0
    with transaction.atomic():
        # The campaign row lock (as every event writer takes it): two checks at once queue once.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
        done = set(ReorderReminder.objects.filter(
            campaign=campaign, last_purchased_on__gte=min(d.last_purchased_on for d in due))
            .values_list("contact_id", "product_id", "last_purchased_on"))
        chosen = _first_per_contact(due, done)
        if not chosen:
            return 0
        written = event_messages_write(campaign, sorted(chosen), now=now, key=RUN_KEY,
                                       once_ever=False)
        if written:
            _reminders_record(campaign, chosen, now)
    return written


def _reminders_record(campaign: Campaign, chosen: dict[int, ReorderDue],
                      now: dt.datetime) -> None:
    """A ReorderReminder for each row the day's run has without one (just written)."""
    run = CampaignRun.objects.get(campaign=campaign,
                                  key=f"{RUN_KEY}:{timezone.localdate(now).isoformat()}")
    new = (Message.objects.filter(run=run, contact_id__in=list(chosen),
                                  reorder_reminder__isnull=True)
           .values_list("pk", "contact_id"))
    ReorderReminder.objects.bulk_create([
        ReorderReminder(campaign=campaign, contact_id=contact_id, message_id=message_id,
                        product_id=chosen[contact_id].product_id,
                        last_purchased_on=chosen[contact_id].last_purchased_on, created_at=now)
        for message_id, contact_id in new])

