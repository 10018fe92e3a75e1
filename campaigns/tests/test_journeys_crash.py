"""A contact's place survives a worker that dies half way: the position is stored together
with what the step wrote, so nothing is lost and nothing is sent twice."""
import pytest
from django.utils import timezone

from campaigns import journey_advance as advance
from campaigns.journey_advance import journeys_advance
from campaigns.models import Coupon, JourneyEnrollment, Message
from campaigns.tests.journeys import days, email, enrolled, journey, wait

pytestmark = pytest.mark.django_db


class Killed(Exception):
    pass


def test_an_error_half_way_through_a_step_leaves_no_row_and_the_position(monkeypatch):
    campaign = journey(email(body_text="{{ coupon.code }}"), wait(7),
                       coupon_kind="percent", coupon_value=10)
    enrollment = enrolled(campaign)
    before = (enrollment.next_position, enrollment.next_at)
    real_create = Message.objects.create

    def create_then_die(**fields):
        real_create(**fields)  # the row and its coupon are written...
        raise Killed  # ...and the worker dies before the position is stored

    monkeypatch.setattr(Message.objects, "create", create_then_die)
    report = journeys_advance()

    assert report.failed == 1
    assert not Message.objects.exists() and not Coupon.objects.exists()
    enrollment.refresh_from_db()
    assert (enrollment.next_position, enrollment.next_at) == before
    assert enrollment.status == JourneyEnrollment.Status.ACTIVE

    monkeypatch.undo()
    journeys_advance()  # the next minute's run does the step, once
    journeys_advance()

    assert Message.objects.filter(enrollment=enrollment).count() == 1
    assert Coupon.objects.count() == 1


def test_one_broken_enrollment_does_not_stop_the_others(monkeypatch):
    campaign = journey(email())
    broken, fine = enrolled(campaign), enrolled(campaign)
    real_email = advance._email

    def email_or_die(enrollment, *args):
        if enrollment.pk == broken.pk:
            raise Killed
        return real_email(enrollment, *args)

    monkeypatch.setattr(advance, "_email", email_or_die)
    journeys_advance()

    assert list(Message.objects.values_list("enrollment_id", flat=True)) == [fine.pk]
    broken.refresh_from_db()
    assert broken.status == JourneyEnrollment.Status.ACTIVE and broken.next_position == 1


def test_running_twice_sends_nothing_twice():
    campaign = journey(email(), wait(1), email())
    start = timezone.now()
    enrollments = [enrolled(campaign, started_at=start) for _ in range(3)]

    for now in (start, start, start + days(1), start + days(1), start + days(2)):
        journeys_advance(now=now)

    for enrollment in enrollments:
        rows = Message.objects.filter(enrollment=enrollment)
        assert sorted(rows.values_list("step__position", flat=True)) == [1, 3]


def test_an_email_step_already_written_is_not_written_again():
    """Belt and braces: even a position stored behind its row (restored from a backup, a
    manual edit) does not send the step twice."""
    campaign = journey(email(), email())
    enrollment = enrolled(campaign)
    journeys_advance()
    JourneyEnrollment.objects.filter(pk=enrollment.pk).update(
        next_position=1, status="active", ended_at=None, next_at=timezone.now())

    journeys_advance()

    assert Message.objects.filter(enrollment=enrollment).count() == 2
