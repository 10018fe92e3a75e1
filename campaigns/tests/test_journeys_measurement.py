"""A journey is measured per contact: emailed enrollments against held-out ones, each contact
once whatever the number of its email steps; the funnel says where contacts are."""
import pytest
from django.utils import timezone

from campaigns.journey_advance import journeys_advance
from campaigns.measurement import campaign_uplift, journey_funnel
from campaigns.models import Message
from campaigns.tests.journeys import condition, days, email, enrolled, journey, wait
from customers.tests.factories import record_purchase

pytestmark = pytest.mark.django_db


def test_each_contact_counts_once_in_the_group_of_their_enrollment():
    campaign = journey(email(), wait(1), email())
    start = timezone.now() - days(3)
    emailed = [enrolled(campaign, started_at=start) for _ in range(2)]
    held = [enrolled(campaign, held_out=True, started_at=start) for _ in range(3)]
    journeys_advance(now=start)
    journeys_advance(now=start + days(1))
    Message.objects.filter(status=Message.Status.QUEUED).update(
        status=Message.Status.SENT, sent_at=start + days(1))
    assert Message.objects.filter(status=Message.Status.SENT).count() == 4
    assert Message.objects.filter(status=Message.Status.HELD_OUT).count() == 6
    record_purchase(emailed[0].contact, days_ago=0)

    result = campaign_uplift(campaign).result

    assert (result.emailed.contacts, result.held_out.contacts) == (2, 3)
    assert (result.emailed.responders, result.held_out.responders) == (1, 0)
    assert held  # held-out contacts walked both email steps, as the emailed did


def test_the_funnel_counts_entries_passes_and_exits_per_step():
    assert journey_funnel(journey()) is None  # not a journey
    campaign = journey(email(), condition("stage", stages=["repeat"]), email())
    stays = enrolled(campaign, held_out=True)
    journeys_advance()  # everybody is a prospect: the condition ends them all

    funnel = journey_funnel(campaign)

    assert (funnel.enrolled, funnel.held_out) == (1, 1)
    assert funnel.by_status == {"condition": 1}
    assert [(s.passed, s.here, s.left) for s in funnel.steps] == [
        (1, 0, {}), (0, 0, {"condition": 1}), (0, 0, {})]
    assert [s.label for s in funnel.steps][1] == "Only if: Is at one of these stages"
    assert stays.pk
