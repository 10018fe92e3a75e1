"""Condition steps: bought since the journey started, clicked one of its emails, used its
coupon, is at a stage; "only if not" inverts. Not met: the contact leaves (CONDITION)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.coupons import coupon_create
from campaigns.journey_advance import condition_met, journeys_advance
from campaigns.models import JourneyEnrollment, JourneyStep, LinkClick, Message
from campaigns.tests.journeys import condition, email, enrolled, journey
from customers.services.purchases import purchase_record
from customers.tests.factories import record_purchase

pytestmark = pytest.mark.django_db

Condition = JourneyStep.Condition
Status = JourneyEnrollment.Status


def _step(kind: str, *, negate: bool = False, stages=()) -> tuple[JourneyStep, JourneyEnrollment]:
    campaign = journey(email(), condition(kind, negate=negate, stages=stages), email())
    enrollment = enrolled(campaign, started_at=timezone.now() - dt.timedelta(hours=1))
    return campaign.steps.get(position=2), enrollment


def _both_ways(kind: str, make_true, **options) -> None:
    step, enrollment = _step(kind, **options)
    assert condition_met(step, enrollment) is False
    assert condition_met(JourneyStep(**{**_fields(step), "negate": True}), enrollment) is True
    make_true(enrollment)
    assert condition_met(step, enrollment) is True
    assert condition_met(JourneyStep(**{**_fields(step), "negate": True}), enrollment) is False


def _fields(step: JourneyStep) -> dict:
    return {"campaign": step.campaign, "position": step.position, "kind": step.kind,
            "condition": step.condition, "stages": step.stages}


def test_bought_since_the_journey_started():
    def buy(enrollment):
        record_purchase(enrollment.contact, days_ago=10)  # before it started: does not count
        step = enrollment.campaign.steps.get(position=2)
        assert condition_met(step, enrollment) is False
        purchase_record(contact=enrollment.contact, purchased_at=timezone.now(),
                        amount=Decimal("5"), currency="USD")

    _both_ways(Condition.BOUGHT_SINCE, buy)


def test_clicked_a_link_in_this_journeys_emails():
    def click(enrollment):
        journeys_advance()
        message = Message.objects.get(enrollment=enrollment)
        LinkClick.objects.create(message=message, contact=enrollment.contact,
                                 url="https://shop.example.com/", url_hash="x")

    _both_ways(Condition.CLICKED, click)


def test_a_click_in_another_campaigns_email_does_not_count():
    from campaigns.tests.factories import MessageFactory

    step, enrollment = _step(Condition.CLICKED)
    other = MessageFactory(contact=enrollment.contact)
    LinkClick.objects.create(message=other, contact=enrollment.contact, url="x", url_hash="x")

    assert condition_met(step, enrollment) is False


def test_used_the_coupon_this_journey_issued():
    def redeem(enrollment):
        journeys_advance()
        coupon = coupon_create(contact=enrollment.contact, kind="percent", value=Decimal("10"),
                               currency="", expires_at=timezone.now() + dt.timedelta(days=9),
                               campaign=enrollment.campaign)
        Message.objects.filter(enrollment=enrollment).update(coupon=coupon)
        coupon.redeemed_at = timezone.now()
        coupon.save()

    _both_ways(Condition.COUPON_USED, redeem)


def test_at_one_of_the_stages():
    def buy_twice(enrollment):
        record_purchase(enrollment.contact, days_ago=60)
        record_purchase(enrollment.contact, days_ago=30)
        enrollment.contact.refresh_from_db()

    _both_ways(Condition.STAGE, buy_twice, stages=["repeat"])


def test_a_condition_not_met_ends_the_journey_there():
    step, enrollment = _step(Condition.STAGE, stages=["repeat"])

    journeys_advance()

    enrollment.refresh_from_db()
    assert enrollment.status == Status.CONDITION and enrollment.next_position == 2
    assert list(Message.objects.values_list("step__position", flat=True)) == [1]


def test_a_condition_met_goes_on():
    step, enrollment = _step(Condition.STAGE, negate=True, stages=["repeat"])

    journeys_advance()

    enrollment.refresh_from_db()
    assert enrollment.status == Status.COMPLETED
    assert sorted(Message.objects.values_list("step__position", flat=True)) == [1, 3]
