"""Entering a journey: by its event (instead of an email), by a run of its audience, once per
key, each contact held out with the campaign's probability for the whole journey."""
import pytest
from django.utils import timezone

from campaigns.journey_advance import journeys_advance
from campaigns.models import Campaign, CampaignRun, JourneyEnrollment, Message
from campaigns.purchase_events import purchases_events_fire
from campaigns.services import campaign_event, campaign_run_start
from campaigns.tests.journeys import consenting, days, email, journey, wait
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db

Status = JourneyEnrollment.Status


def test_an_event_enrolls_the_contact_and_the_first_step_writes_the_email():
    campaign = journey(email(), wait(7), email())
    contact = consenting()
    before = timezone.now()

    assert campaign_event(contact_id=contact.pk, event=Campaign.Event.FIRST_PURCHASE) == 1

    enrollment = JourneyEnrollment.objects.get()
    assert (enrollment.campaign, enrollment.contact, enrollment.key) == (campaign, contact, "")
    assert enrollment.status == Status.ACTIVE and not enrollment.held_out
    assert not Message.objects.exists()  # the steps send, not the event

    journeys_advance()

    message = Message.objects.get()
    first = campaign.steps.get(position=1)
    assert (message.step, message.enrollment, message.template) == (first, enrollment,
                                                                   first.template)
    assert message.status == Message.Status.QUEUED and message.to_email == contact.email
    enrollment.refresh_from_db()
    assert enrollment.next_position == 3  # the wait is done: the second email is next
    assert before + days(7) <= enrollment.next_at <= timezone.now() + days(7)


def test_an_event_enrolls_a_contact_once_ever():
    journey(email())
    contact = consenting()

    campaign_event(contact_id=contact.pk, event=Campaign.Event.FIRST_PURCHASE)
    journeys_advance()
    campaign_event(contact_id=contact.pk, event=Campaign.Event.FIRST_PURCHASE)
    journeys_advance()

    assert JourneyEnrollment.objects.count() == 1
    assert Message.objects.count() == 1


def test_an_import_chunk_enrolls_the_contacts_who_crossed_the_event():
    journey(email())
    first, second = consenting(), consenting()
    record_purchase(first), record_purchase(second)

    assert purchases_events_fire({first.pk: 0, second.pk: 0}) == 2
    assert purchases_events_fire({first.pk: 0, second.pk: 0}) == 0

    assert set(JourneyEnrollment.objects.values_list("contact_id", flat=True)) == {
        first.pk, second.pk}


def test_the_audience_rules_hold_for_the_entry():
    journey(email(), audience={"stages": ["repeat"]})
    one_time = consenting()
    record_purchase(one_time)

    assert campaign_event(contact_id=one_time.pk, event=Campaign.Event.FIRST_PURCHASE) == 0
    assert not JourneyEnrollment.objects.exists()


def test_a_run_enrolls_the_audience_once_per_key_and_not_those_already_in_it():
    campaign = journey(email(), trigger=Campaign.Trigger.SCHEDULE)
    contacts = [consenting() for _ in range(3)]
    ContactFactory(marketing_consent=False)  # never in an audience

    run = campaign_run_start(campaign=campaign, key="schedule:2026-12-07")

    assert run.status == CampaignRun.Status.DONE  # its steps' runs send
    assert set(JourneyEnrollment.objects.values_list("contact_id", flat=True)) == {
        c.pk for c in contacts}
    assert set(JourneyEnrollment.objects.values_list("key", flat=True)) == {f"run:{run.pk}"}
    assert campaign_run_start(campaign=campaign, key="schedule:2026-12-07") is None

    # The next day's run: everyone is still in the journey (or entered within the window).
    campaign_run_start(campaign=campaign, key="schedule:2026-12-08")
    assert JourneyEnrollment.objects.count() == 3


def test_a_held_out_contact_walks_every_step_and_gets_nothing(monkeypatch):
    monkeypatch.setattr("campaigns.journeys.secrets.randbelow", lambda n: 0)  # every draw
    campaign = journey(email(), wait(2), email(), holdout_percent=50,
                       coupon_kind="percent", coupon_value=10)
    contact = consenting()
    campaign_event(contact_id=contact.pk, event=Campaign.Event.FIRST_PURCHASE)
    enrollment = JourneyEnrollment.objects.get()
    assert enrollment.held_out

    journeys_advance()
    journeys_advance(now=timezone.now() + days(2))

    rows = Message.objects.filter(enrollment=enrollment).order_by("step__position")
    assert [row.status for row in rows] == [Message.Status.HELD_OUT] * 2
    assert not any(row.coupon_id for row in rows)
    enrollment.refresh_from_db()
    assert enrollment.status == Status.COMPLETED and campaign.coupons.count() == 0


def test_holdout_is_drawn_per_contact_in_a_run(monkeypatch):
    draws = iter([0, 99, 0, 99])
    monkeypatch.setattr("campaigns.journeys.secrets.randbelow", lambda n: next(draws))
    campaign = journey(email(), trigger=Campaign.Trigger.MANUAL, holdout_percent=50)
    for _ in range(4):
        consenting()

    campaign_run_start(campaign=campaign)

    assert JourneyEnrollment.objects.filter(held_out=True).count() == 2
    assert JourneyEnrollment.objects.filter(held_out=False).count() == 2
