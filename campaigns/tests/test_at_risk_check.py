"""The daily at-risk check: everyone who crossed the line since the last completed check."""
import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Campaign, EmailTemplate, Message
from campaigns.services import (
    AT_RISK_CATCH_UP, at_risk_check_done, at_risk_check_last, contacts_fallen_at_risk,
)
from campaigns.triggers import detect_at_risk_task
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_risk_after_90_days(settings):
    settings.CRM_AT_RISK_MIN_DAYS = 90


def _silent_client(days_past_the_line: float):
    """A repeat client whose last purchase crossed the 90-day line this many days ago."""
    contact = ContactFactory()
    record_purchase(contact, days_ago=200)
    record_purchase(contact, days_ago=90 + days_past_the_line)
    contact_set_consent(contact=contact, consent=True, source="test")
    return contact


def _win_back() -> Campaign:
    template = EmailTemplate.objects.create(name="win-back", subject="We miss you",
                                            body_text="{{ unsubscribe_url }}")
    return Campaign.objects.create(name="Win-back", template=template, is_active=True,
                                   trigger=Campaign.Trigger.EVENT,
                                   event=Campaign.Event.FELL_AT_RISK,
                                   audience={"stages": ["repeat"]})


def test_the_first_check_takes_those_who_crossed_within_the_last_day():
    today = _silent_client(0.5)
    _silent_client(3)

    assert contacts_fallen_at_risk() == [today.pk]


def test_a_missed_day_is_caught_up_by_the_next_check():
    now = timezone.now()
    crossed_yesterday, crossed_today = _silent_client(1.5), _silent_client(0.5)
    _silent_client(3.5)  # crossed before the last check: that check took them

    fallen = contacts_fallen_at_risk(now=now, since=now - dt.timedelta(days=3))

    assert sorted(fallen) == sorted([crossed_yesterday.pk, crossed_today.pk])


def test_catching_up_looks_back_at_most_the_limit():
    now = timezone.now()
    within, beyond = _silent_client(AT_RISK_CATCH_UP.days - 1), _silent_client(
        AT_RISK_CATCH_UP.days + 1)

    fallen = contacts_fallen_at_risk(now=now, since=now - dt.timedelta(days=365))

    assert within.pk in fallen and beyond.pk not in fallen


def test_the_task_remembers_its_last_check_and_catches_up_after_an_outage():
    campaign = _win_back()
    at_risk_check_done(timezone.now() - dt.timedelta(days=4))  # the worker was down since
    missed = _silent_client(2.5)
    before = timezone.now()

    detect_at_risk_task()

    assert list(Message.objects.filter(run__campaign=campaign)
                .values_list("contact_id", flat=True)) == [missed.pk]
    assert at_risk_check_last() >= before


def test_checking_twice_sends_nobody_twice():
    campaign = _win_back()
    _silent_client(0.5)

    detect_at_risk_task()
    at_risk_check_done(timezone.now() - dt.timedelta(days=2))  # as if the day had been missed
    detect_at_risk_task()

    assert Message.objects.filter(run__campaign=campaign).count() == 1
