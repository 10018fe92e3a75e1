"""The first-purchase anniversary: once a day, contacts whose first purchase was on this day
of an earlier year enter the anniversary campaigns, once a year each."""
import datetime as dt

import pytest
from django.utils import timezone

from campaigns.journeys import anniversaries_enroll, anniversary_contacts
from campaigns.models import Campaign, JourneyEnrollment, Message
from campaigns.tasks import journey_anniversaries_task
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.journeys import consenting, email, journey
from customers.models import Contact

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 15, 9, 0))


def _first_bought(on: dt.datetime):
    contact = consenting()
    Contact.objects.filter(pk=contact.pk).update(first_purchase_at=on)
    return contact


def test_contacts_enter_once_a_year_on_the_day_of_their_first_purchase():
    campaign = journey(email(), event=Campaign.Event.ANNIVERSARY)
    year_ago = _first_bought(NOW.replace(year=2025, hour=18))
    _first_bought(NOW.replace(year=2025, day=16))  # tomorrow's
    _first_bought(NOW.replace(hour=8))  # this year's first purchase: no anniversary yet

    assert anniversaries_enroll(now=NOW) == 1
    assert anniversaries_enroll(now=NOW) == 0  # the task again, same day: nothing

    enrollment = JourneyEnrollment.objects.get()
    assert (enrollment.campaign, enrollment.contact, enrollment.key) == (
        campaign, year_ago, "2026")
    JourneyEnrollment.objects.update(status="completed")
    # Next year: again, with this year's first buyer, now a year on.
    assert anniversaries_enroll(now=NOW.replace(year=2027)) == 2
    assert JourneyEnrollment.objects.filter(key="2027").count() == 2


def test_the_daily_task_runs_it(monkeypatch):
    calls = []
    monkeypatch.setattr("campaigns.journeys.anniversaries_enroll",
                        lambda **kw: calls.append(kw))

    journey_anniversaries_task()

    assert calls == [{}]


def test_a_leap_day_first_purchase_is_celebrated_on_28_february():
    leap = _first_bought(timezone.make_aware(dt.datetime(2024, 2, 29, 12)))

    assert leap in anniversary_contacts(dt.date(2025, 2, 28))
    assert leap not in anniversary_contacts(dt.date(2028, 2, 28))
    assert leap in anniversary_contacts(dt.date(2028, 2, 29))


def test_a_one_email_anniversary_campaign_sends_once_a_day():
    CampaignFactory(is_active=True, trigger=Campaign.Trigger.EVENT,
                    event=Campaign.Event.ANNIVERSARY, holdout_percent=0)
    _first_bought(NOW.replace(year=2024))

    anniversaries_enroll(now=NOW)
    anniversaries_enroll(now=NOW)

    assert Message.objects.count() == 1


def test_an_inactive_anniversary_journey_enrolls_nobody():
    journey(email(), event=Campaign.Event.ANNIVERSARY, is_active=False)
    _first_bought(NOW.replace(year=2025))

    assert anniversaries_enroll(now=NOW) == 0
