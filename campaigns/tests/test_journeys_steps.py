"""Walking the steps as time passes (now= moves the clock): emails, waits, the end; and a
journey edited or switched off while contacts are in it."""
import pytest
from django.utils import timezone

from campaigns.journey_advance import journeys_advance
from campaigns.models import Campaign, CampaignRun, JourneyEnrollment, Message
from campaigns.tests.journeys import days, email, enrolled, journey, wait

pytestmark = pytest.mark.django_db

Status = JourneyEnrollment.Status


def _positions(enrollment) -> list[int]:
    return list(Message.objects.filter(enrollment=enrollment)
                .order_by("step__position").values_list("step__position", flat=True))


def test_the_steps_are_taken_as_their_days_come():
    campaign = journey(email(), wait(7), email(), wait(6), email())
    start = timezone.now()
    enrollment = enrolled(campaign, started_at=start)

    journeys_advance(now=start)
    assert _positions(enrollment) == [1]
    journeys_advance(now=start + days(6))  # not due yet
    assert _positions(enrollment) == [1]
    journeys_advance(now=start + days(7))
    assert _positions(enrollment) == [1, 3]
    journeys_advance(now=start + days(13))

    assert _positions(enrollment) == [1, 3, 5]
    enrollment.refresh_from_db()
    assert enrollment.status == Status.COMPLETED
    assert enrollment.ended_at == start + days(13)


def test_a_late_walk_keeps_the_schedule_and_catches_up():
    campaign = journey(email(), wait(2), email(), wait(2), email())
    start = timezone.now()
    enrollment = enrolled(campaign, started_at=start)

    journeys_advance(now=start + days(10))  # the worker was down for days

    assert _positions(enrollment) == [1, 3, 5]
    enrollment.refresh_from_db()
    assert enrollment.status == Status.COMPLETED


def test_each_step_has_its_run_of_the_day_and_sending_starts_after_commit(
        django_capture_on_commit_callbacks, monkeypatch):
    started = []
    monkeypatch.setattr("campaigns.services._enqueue_sending", started.append)
    campaign = journey(email(), wait(1), email())
    first, second = enrolled(campaign), enrolled(campaign)

    with django_capture_on_commit_callbacks(execute=True):
        journeys_advance()

    run = CampaignRun.objects.get()
    assert run.key.startswith(f"journey:{campaign.steps.get(position=1).pk}:")
    assert set(run.messages.values_list("enrollment_id", flat=True)) == {first.pk, second.pk}
    assert started == [run.pk]


def test_contacts_past_the_end_of_an_edited_journey_complete():
    campaign = journey(email(), wait(3), email())
    start = timezone.now()
    enrollment = enrolled(campaign, started_at=start)
    journeys_advance(now=start)

    campaign.steps.filter(position=3).delete()  # the manager removes the last email
    journeys_advance(now=start + days(3))

    enrollment.refresh_from_db()
    assert enrollment.status == Status.COMPLETED
    assert _positions(enrollment) == [1]


def test_a_journey_left_without_steps_or_switched_off_stops_its_contacts():
    emptied = journey(wait(1))
    switched_off = journey(wait(1))
    start = timezone.now()
    one, two = enrolled(emptied, started_at=start), enrolled(switched_off, started_at=start)
    journeys_advance(now=start)

    emptied.steps.all().delete()
    Campaign.objects.filter(pk=switched_off.pk).update(is_active=False)
    journeys_advance(now=start + days(1))

    one.refresh_from_db(), two.refresh_from_db()
    assert (one.status, two.status) == (Status.STOPPED, Status.STOPPED)


def test_a_manual_journey_goes_on_while_switched_off():
    campaign = journey(email(), is_active=False, trigger=Campaign.Trigger.MANUAL)
    enrollment = enrolled(campaign)

    journeys_advance()

    enrollment.refresh_from_db()
    assert enrollment.status == Status.COMPLETED and _positions(enrollment) == [1]
