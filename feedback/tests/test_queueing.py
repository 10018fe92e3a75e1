"""The daily task: who gets a survey (delay, consent, suppression, minimum gap) and that the
outbox rows are written once."""
import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Message, Suppression
from customers.tests.factories import ContactFactory, record_purchase
from feedback.models import SurveyInvite
from feedback.services import surveys_queue
from feedback.tasks import queue_surveys_task
from feedback.tests.factories import SurveyInviteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.CRM_SURVEY_DELAY_DAYS = 7
    settings.CRM_SURVEY_MIN_GAP_DAYS = 90


def buyer(days_ago: float, **fields):
    contact = ContactFactory(**{"marketing_consent": True, **fields})
    record_purchase(contact, days_ago=days_ago)
    return contact


def surveyed_ids() -> set[int]:
    return set(SurveyInvite.objects.values_list("contact_id", flat=True))


def test_a_purchase_seven_days_ago_gets_one_queued_survey_email(survey_campaign):
    contact = buyer(7)

    assert surveys_queue() == 1

    invite = SurveyInvite.objects.select_related("message").get()
    assert invite.contact == contact
    assert invite.purchase == contact.purchases.get()
    assert invite.message.campaign == survey_campaign
    assert invite.message.status == Message.Status.QUEUED
    assert invite.message.to_email == contact.email


def test_too_recent_purchases_wait(survey_campaign):
    buyer(6)

    assert surveys_queue() == 0


def test_a_missed_day_is_caught_up_but_older_purchases_are_not(survey_campaign):
    caught_up, _too_old = buyer(9), buyer(10)

    surveys_queue()

    assert surveyed_ids() == {caught_up.pk}


def test_no_consent_or_suppressed_address_gets_no_survey(survey_campaign):
    buyer(7, marketing_consent=False)
    suppressed = buyer(7)
    Suppression.objects.create(email=suppressed.email, reason=Suppression.Reason.UNSUBSCRIBED)

    assert surveys_queue() == 0


def test_contacts_asked_within_the_minimum_gap_are_skipped(survey_campaign):
    recent, long_ago = buyer(7), buyer(7)
    SurveyInviteFactory(contact=recent, created_at=timezone.now() - dt.timedelta(days=89))
    SurveyInviteFactory(contact=long_ago, created_at=timezone.now() - dt.timedelta(days=91))

    surveys_queue()

    assert set(SurveyInvite.objects.filter(created_at__gt=timezone.now() - dt.timedelta(days=1))
               .values_list("contact_id", flat=True)) == {long_ago.pk}


def test_a_survey_the_frequency_cap_stopped_does_not_count_as_asked(survey_campaign):
    contact = buyer(7)
    capped = SurveyInviteFactory(contact=contact, created_at=timezone.now() - dt.timedelta(days=3))
    Message.objects.filter(pk=capped.message_id).update(status=Message.Status.CAPPED)

    assert surveys_queue() == 1


def test_running_twice_writes_the_outbox_rows_once(survey_campaign):
    buyer(7), buyer(8)

    first, second = surveys_queue(), queue_surveys_task()

    assert (first, second) == (2, 0)
    assert Message.objects.filter(campaign=survey_campaign).count() == 2
    assert SurveyInvite.objects.count() == 2


def test_nothing_is_queued_while_the_survey_campaign_is_inactive(survey_campaign):
    survey_campaign.is_active = False
    survey_campaign.save()
    buyer(7)

    assert surveys_queue() == 0
